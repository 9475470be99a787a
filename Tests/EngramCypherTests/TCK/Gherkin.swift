/// A minimal Gherkin reader for the openCypher TCK feature files: scenarios, outlines with
/// examples, a background, steps with docstrings and tables.
struct GherkinStep {
    var keyword: String
    var text: String
    var docString: String?
    var table: [[String]]?
    var line: Int
}

struct GherkinExample {
    var line: Int
    var values: [String: String]
}

struct GherkinScenario {
    var name: String
    var line: Int
    var isOutline: Bool
    var tags: [String]
    var steps: [GherkinStep]
    var examples: [GherkinExample]
}

struct GherkinFeature {
    var name: String
    var background: [GherkinStep]
    var scenarios: [GherkinScenario]

    init(parsing text: String) {
        name = ""
        background = []
        scenarios = []
        let lines = text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map {
            String($0).replacingTabs()
        }
        var index = 0
        var pendingTags: [String] = []
        var current: GherkinScenario? = nil
        var inBackground = false
        var examplesHeader: [String]? = nil
        var inExamples = false

        func finishScenario() {
            if let scenario = current { scenarios.append(scenario) }
            current = nil
        }

        while index < lines.count {
            let raw = lines[index]
            let line = raw.trimmingWhitespace()
            let lineNumber = index + 1
            index += 1
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("@") {
                pendingTags += line.split(separator: " ").map(String.init)
                continue
            }
            if line.hasPrefix("Feature:") {
                name = String(line.dropFirst("Feature:".count)).trimmingWhitespace()
                continue
            }
            if line.hasPrefix("Background:") {
                inBackground = true
                continue
            }
            if line.hasPrefix("Scenario Outline:") || line.hasPrefix("Scenario:") {
                finishScenario()
                inBackground = false
                inExamples = false
                examplesHeader = nil
                let outline = line.hasPrefix("Scenario Outline:")
                let title = line.drop { $0 != ":" }.dropFirst().description.trimmingWhitespace()
                current = GherkinScenario(
                    name: title, line: lineNumber, isOutline: outline, tags: pendingTags,
                    steps: [], examples: [])
                pendingTags = []
                continue
            }
            if line.hasPrefix("Examples:") {
                inExamples = true
                examplesHeader = nil
                continue
            }
            if line.hasPrefix("|") {
                let cells = Self.cells(line)
                if inExamples {
                    if let header = examplesHeader {
                        current?.examples.append(
                            GherkinExample(
                                line: lineNumber,
                                values: Dictionary(zip(header, cells).map { ($0, $1) }, uniquingKeysWith: { a, _ in a })
                            ))
                    } else {
                        examplesHeader = cells
                    }
                } else if inBackground {
                    background[background.count - 1].table = (background.last!.table ?? []) + [cells]
                } else if var scenario = current, !scenario.steps.isEmpty {
                    let last = scenario.steps.count - 1
                    scenario.steps[last].table = (scenario.steps[last].table ?? []) + [cells]
                    current = scenario
                }
                continue
            }
            if line.hasPrefix("\"\"\"") {
                let indent = raw.prefix { $0 == " " }.count
                var body: [String] = []
                while index < lines.count {
                    let next = lines[index]
                    index += 1
                    if next.trimmingWhitespace().hasPrefix("\"\"\"") { break }
                    var stripped = Substring(next)
                    var removed = 0
                    while removed < indent, stripped.first == " " {
                        stripped = stripped.dropFirst()
                        removed += 1
                    }
                    body.append(String(stripped))
                }
                let text = body.joined(separator: "\n")
                if inBackground {
                    background[background.count - 1].docString = text
                } else if var scenario = current, !scenario.steps.isEmpty {
                    scenario.steps[scenario.steps.count - 1].docString = text
                    current = scenario
                }
                continue
            }
            let keyword = String(line.prefix { $0 != " " })
            if ["Given", "When", "Then", "And", "But"].contains(keyword) {
                let step = GherkinStep(
                    keyword: keyword,
                    text: String(line.dropFirst(keyword.count)).trimmingWhitespace(), docString: nil, table: nil,
                    line: lineNumber)
                if inBackground { background.append(step) } else { current?.steps.append(step) }
            }
        }
        finishScenario()
    }

    /// Splits a table row, honouring Cucumber escapes (`\|`, `\\`, `\n`).
    static func cells(_ line: String) -> [String] {
        var cells: [String] = []
        var cell = ""
        var characters = Array(line.trimmingWhitespace())
        if characters.first == "|" { characters.removeFirst() }
        var index = 0
        while index < characters.count {
            let character = characters[index]
            if character == "\\" && index + 1 < characters.count {
                let next = characters[index + 1]
                switch next {
                case "|": cell.append("|")
                case "\\": cell.append("\\")
                case "n": cell.append("\n")
                default: cell.append("\\"); cell.append(next)
                }
                index += 2
                continue
            }
            if character == "|" {
                cells.append(cell.trimmingWhitespace())
                cell = ""
            } else {
                cell.append(character)
            }
            index += 1
        }
        return cells
    }
}

extension String {
    func trimmingWhitespace() -> String {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice = slice.dropFirst() }
        while let last = slice.last, last.isWhitespace { slice = slice.dropLast() }
        return String(slice)
    }

    func replacingTabs() -> String {
        replacing("\t", with: "    ")
    }
}
