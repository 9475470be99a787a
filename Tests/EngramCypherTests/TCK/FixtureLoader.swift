import EngramCore
import EngramCypher

/// Builds an in-memory graph from the TCK's plain `CREATE` setup statements (HARNESS.md §1). The
/// query API stays read-only: only this loader asks the parser to accept `CREATE`.
struct FixtureLoader {
    struct Unsupported: Error, CustomStringConvertible {
        var description: String
    }

    let graph: InMemoryGraph

    /// Runs one setup statement (one or more `CREATE` clauses sharing variables).
    func run(_ text: String) throws {
        let statement = try Parser.parse(text, allowCreate: true)
        var variables: [String: NodeID] = [:]
        for query in statement.queries {
            for clause in query {
                guard case .create(let parts, _) = clause else {
                    throw Unsupported(description: "setup clause \(Statement.describe(clause)) is not plain CREATE")
                }
                for part in parts { try create(part, &variables) }
            }
        }
    }

    /// Runs a named-graph script: statements separated by `;`.
    func runScript(_ text: String) throws {
        for statement in text.split(separator: ";") where !String(statement).trimmingWhitespace().isEmpty {
            try run(String(statement))
        }
    }

    private func create(_ part: PatternPart, _ variables: inout [String: NodeID]) throws {
        var ids: [NodeID] = []
        for node in part.nodes {
            if let name = node.variable, let existing = variables[name] {
                ids.append(existing)
                continue
            }
            let id = graph.addNode(labels: node.labels, properties: try properties(node.properties))
            if let name = node.variable { variables[name] = id }
            ids.append(id)
        }
        for (index, relationship) in part.relationships.enumerated() {
            guard relationship.types.count == 1 else { throw Unsupported(description: "relationship needs one type") }
            let (start, end) = relationship.direction == .incoming ? (ids[index + 1], ids[index]) : (ids[index], ids[index + 1])
            graph.addRelationship(type: relationship.types[0], from: start, to: end,
                properties: try properties(relationship.properties))
        }
    }

    private func properties(_ expression: Expression?) throws -> [String: PropertyValue] {
        guard let expression else { return [:] }
        guard case .map(let entries) = expression.kind else { throw Unsupported(description: "properties") }
        var result: [String: PropertyValue] = [:]
        for (key, value) in entries { result[key] = try literal(value) }
        return result
    }

    private func literal(_ expression: Expression) throws -> PropertyValue {
        switch expression.kind {
        case .literal(let value): return value
        case .list(let items): return .list(try items.map(literal))
        case .unary(.minus, let operand):
            switch try literal(operand) {
            case .int(let i): return .int(-i)
            case .double(let d): return .double(-d)
            default: throw Unsupported(description: "negation of a non-number")
            }
        default:
            throw Unsupported(description: "non-literal property value \(expression)")
        }
    }
}
