import EngramTestSupport
import Foundation
import Testing

/// Runs the built `engram` binary and returns (exit status, stdout, stderr).
func runEngram(_ arguments: [String]) throws -> (status: Int32, out: String, err: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: engramBinary())
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    let outData = out.fileHandleForReading.readDataToEndOfFile()
    let errData = err.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: outData, as: UTF8.self), String(decoding: errData, as: UTF8.self))
}

@Suite("The engram command")
struct CommandTests {
    @Test func demoThenQueryTheStoreItLeft() throws {
        try #require(FileManager.default.isExecutableFile(atPath: engramBinary()), "build the engram executable first")
        let directory = try TemporaryDirectory(prefix: "engram-cli")
        let db = directory.appending("demo")
        let demo = try runEngram(["demo", "--db", db])
        #expect(demo.status == 0, "\(demo.err)")
        #expect(demo.out.contains("readOnlyQuery") && demo.out.contains("Done."))
        // Running it again starts from a clean tenant and gives the same answers.
        let again = try runEngram(["demo", "--db", db])
        #expect(again.status == 0)
        #expect(again.out.contains("5 nodes (Location 1, Person 3, Project 1)"))

        let query = try runEngram([
            "query", "--db", db, "--tenant", "demo", "--format", "json", "--param", "min=80",
            "MATCH (p:Person) WHERE p.age >= $min RETURN p.name AS name",
        ])
        #expect(query.status == 0, "\(query.err)")
        let json = try JSONSerialization.jsonObject(with: Data(query.out.utf8)) as? [String: Any]
        #expect(json?["columns"] as? [String] == ["name"])
        #expect((json?["rows"] as? [[String]]) == [["Mary Somerville"]])

        let bad = try runEngram(["query", "--db", db, "MATCH (n RETURN n"])
        #expect(bad.status == 1)
        #expect(bad.out.isEmpty && bad.err.contains("syntaxError"))
        let missing = try runEngram(["query", "--db", directory.appending("nowhere"), "MATCH (n) RETURN n"])
        #expect(missing.status == 1 && missing.err.contains("not_found"))
        #expect(!FileManager.default.fileExists(atPath: directory.appending("nowhere")))
        let version = try runEngram(["--version"])
        #expect(version.status == 0 && version.out.hasPrefix("0."))
    }
}
