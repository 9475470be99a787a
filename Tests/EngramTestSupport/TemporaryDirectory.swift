public import Foundation

/// A fresh, empty directory under the system temporary directory, removed when the value is
/// deinitialised. Every test that touches the file system makes its own.
public final class TemporaryDirectory: @unchecked Sendable {
    /// The directory's URL.
    public let url: URL

    /// The directory's path.
    public var path: String { url.path }

    /// Creates a new, uniquely named directory.
    /// - Parameter prefix: a readable prefix for the directory name, such as the test's name.
    public init(prefix: String = "engram-test") throws {
        let base = URL(fileURLWithPath: NSTemporaryDirectory(), isDirectory: true)
        url = base.appendingPathComponent("\(prefix)-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    /// A path inside the directory.
    public func appending(_ component: String) -> String {
        url.appendingPathComponent(component).path
    }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

/// A small, fast, seedable pseudo-random generator (SplitMix64) so that every randomised test is
/// reproducible from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    /// Creates a generator whose sequence is fixed by `seed`.
    public init(seed: UInt64) { state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// The `shared` folder beside the checkout (`../shared`), where the TCK, the embedding goldens
/// and the bench harness live. Found by walking up from this source file.
public func sharedFolder(filePath: String = #filePath) -> URL {
    var url = URL(fileURLWithPath: filePath).deletingLastPathComponent()
    while url.path != "/" {
        let candidate = url.appendingPathComponent("shared", isDirectory: true)
        if FileManager.default.fileExists(atPath: candidate.appendingPathComponent("SPEC.md").path) {
            return candidate
        }
        url.deleteLastPathComponent()
    }
    return URL(fileURLWithPath: "../shared", isDirectory: true)
}

/// The built `engram` executable, next to the test bundle (or `ENGRAM_BINARY`).
public func engramBinary() -> String {
    if let path = ProcessInfo.processInfo.environment["ENGRAM_BINARY"] { return path }
    let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    return URL(fileURLWithPath: executable).deletingLastPathComponent().appendingPathComponent("engram").path
}
