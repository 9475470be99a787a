import ArgumentParser
import Foundation

/// How a command prints its result.
enum OutputFormat: String, ExpressibleByArgument, CaseIterable {
    case table, json, csv
}

/// Prints one JSON document on standard output.
func printJSON(_ object: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .prettyPrinted])
    FileHandle.standardOutput.write(data)
    FileHandle.standardOutput.write(Data("\n".utf8))
}

/// Prints a benchmark's named figures: one JSON object, or one `name value` line each, by name.
func printFigures(_ figures: [String: Any], format: OutputFormat) throws {
    if format == .json {
        try printJSON(figures)
    } else {
        for key in figures.keys.sorted() { print(key.padding(toLength: 28, withPad: " ", startingAt: 0), figures[key]!) }
    }
}

/// Writes a line to standard error (diagnostics and progress never go to standard output).
func printDiagnostic(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// Whether standard output is a terminal (progress is shown only then).
var standardOutputIsTerminal: Bool { isatty(STDOUT_FILENO) != 0 }
