import Engram
import EngramTestSupport
import Testing

/// The store decides `n.key op constant` on the stored bytes where it can, and groups one-key
/// aggregations by them (`PropertyScanner`, `StorePropertyComparator`, `ByteGroupTable`). Every
/// answer must be the one the general evaluator gives for the same values: here the value comes
/// from a node's property (the byte path) and, as the reference, from a parameter (the value
/// path), for values chosen where byte order and Cypher's rules part: Unicode equivalence (the
/// Kelvin sign equals `K`, a decomposed `é` equals the composed one), integers against floats,
/// NaN, zero's sign, null, and values of other kinds.
@Suite("Cypher: comparisons and grouping on stored bytes agree with values")
struct QueryStoredComparisonTests {
    static let values: [PropertyValue] = [
        "K", "\u{212A}", "k", "Ka", "", "PERSON", "PERSONS", "é", "e\u{301}", "zz",
        1, -5, 0, .int(Int64.max), .int(Int64.min),
        1.0, 0.5, -0.0, 0.0, .double(.nan), .double(.infinity), 2.5,
        true, false, [1, 2], .null,
    ]

    /// Constants as Cypher literals, with the same constants as parameters.
    static let literals = [
        "'K'", "'\u{212A}'", "'PERSON'", "''", "'é'", "'e\u{301}'", "1", "1.0", "0", "0.5", "-0.0", "2", "true", "null",
    ]

    static func store() throws -> TestEngramStore {
        let fixture = try TestEngramStore()
        let graph = fixture.store.graph()
        for (index, value) in values.enumerated() {
            try graph.createNode(id: "v\(index)", labels: ["V"], properties: value == .null ? [:] : ["v": value])
        }
        // Relationships carrying the same values, read from their adjacency entries.
        for index in values.indices {
            try graph.createRelationship(
                from: "v\(index)", to: "v\((index + 1) % values.count)", type: "R",
                properties: values[index] == .null ? [:] : ["v": values[index]])
        }
        return fixture
    }

    @Test(arguments: ["=", "<>", "<", ">", "<=", ">="])
    func comparisonsMatchTheEvaluator(_ op: String) throws {
        let fixture = try Self.store()
        for literal in Self.literals {
            for (constantFirst, text) in [(false, "n.v \(op) \(literal)"), (true, "\(literal) \(op) n.v")] {
                let stored = try fixture.store.query("MATCH (n:V) RETURN n.v, \(text) ORDER BY id(n)")
                let relationships = try fixture.store.query(
                    "MATCH (n:V)-[r:R]->() RETURN r.v, \(constantFirst ? "\(literal) \(op) r.v" : "r.v \(op) \(literal)") ORDER BY id(n)")
                let expected = try Self.values.map { value in
                    let reference = constantFirst ? "\(literal) \(op) $x" : "$x \(op) \(literal)"
                    return try fixture.store.query("RETURN \(reference)", parameters: ["x": value]).rows[0][0]
                }
                #expect(stored.rows.map { $0[1] } == expected, "\(text)")
                #expect(relationships.rows.map { $0[1] } == expected, "\(text) on relationships")
            }
        }
    }

    @Test func parametersAreConstantsToo() throws {
        let fixture = try Self.store()
        for constant in Self.values {
            let stored = try fixture.store.query(
                "MATCH (n:V) RETURN n.v = $c, n.v < $c ORDER BY id(n)", parameters: ["c": constant])
            let expected = try Self.values.map { value in
                try fixture.store.query("RETURN $x = $c, $x < $c", parameters: ["x": value, "c": constant]).rows[0]
            }
            #expect(stored.rows == expected, "\(constant)")
        }
    }

    @Test func filtersUseTheSameTruth() throws {
        let fixture = try Self.store()
        let filtered = try fixture.store.query("MATCH (n:V) WHERE n.v = 'K' RETURN n.v ORDER BY id(n)")
        #expect(filtered.rows == [[.string("K")], [.string("\u{212A}")]])
        let numbers = try fixture.store.query("MATCH (n:V) WHERE n.v >= 1 RETURN count(*)")
        // 1, Int64.max, 1.0, +∞, 2.5
        #expect(numbers.rows == [[.integer(5)]])
    }

    @Test func groupingByStoredBytesMatchesGroupingByValue() throws {
        let fixture = try Self.store()
        // NaN is left out: it is its own group, and NaN ≠ NaN would fail the row comparison.
        let grouped = try fixture.store.query(
            "MATCH (n:V) WHERE n.v IS NULL OR n.v = n.v WITH n ORDER BY id(n) RETURN n.v AS v, count(*) AS c")
        let reference = try fixture.store.query(
            "UNWIND $values AS v WITH v WHERE v IS NULL OR v = v RETURN v, count(*) AS c",
            parameters: ["values": .list(Self.values)])
        #expect(grouped.rows == reference.rows)
        // K and the Kelvin sign, é composed and decomposed, 1 and 1.0, 0, -0.0 and 0.0 each make one group.
        #expect(grouped.rows.count == Self.values.count - 1 - 1 - 1 - 1 - 2)
        let relationshipGroups = try fixture.store.query(
            "MATCH (n:V)-[r:R]->() WHERE r.v IS NULL OR r.v = r.v WITH r ORDER BY id(n) RETURN r.v AS v, count(*) AS c")
        #expect(relationshipGroups.rows == reference.rows)
    }
}
