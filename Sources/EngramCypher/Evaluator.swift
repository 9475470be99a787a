import EngramCore
import Foundation

/// Evaluates expressions against a row.
extension ExecutionContext {
    func evaluate(_ expression: Expression, _ row: Row) throws(CypherError) -> Value {
        switch expression.kind {
        case .literal(let value): return Value(value)
        case .parameter(let name):
            guard let value = parameters[name] else {
                throw CypherError(
                    .missingParameter, "parameter $\(name) was not supplied", detail: "ParameterMissing",
                    line: expression.range.line, column: expression.range.column)
            }
            return value
        case .variable(let name):
            if expression.slot >= 0 { return expression.slot < row.count ? row[expression.slot] : .null }
            guard let slot = layout.existingSlot(name), slot < row.count else {
                throw CypherError.semantic(
                    "variable `\(name)` is not defined", "UndefinedVariable", at: expression.range)
            }
            return row[slot]
        case .property(let base, let key):
            return try property(key, of: try evaluate(base, row))
        case .list(let items):
            var values: [Value] = []
            values.reserveCapacity(items.count)
            for item in items { values.append(try evaluate(item, row)) }
            return .list(values)
        case .map(let entries):
            var values: [String: Value] = [:]
            for (key, item) in entries { values[key] = try evaluate(item, row) }
            return .map(values)
        case .index(let base, let index):
            return try subscriptValue(try evaluate(base, row), try evaluate(index, row))
        case .slice(let base, let from, let to):
            let value = try evaluate(base, row)
            let lower = try from.map { (e: Expression) throws(CypherError) in try evaluate(e, row) }
            let upper = try to.map { (e: Expression) throws(CypherError) in try evaluate(e, row) }
            return try slice(value, lower, upper)
        case .unary(let op, let operand):
            let value = try evaluate(operand, row)
            switch op {
            case .not:
                switch value {
                case .null: return .null
                case .bool(let b): return .bool(!b)
                default: throw CypherError.type("NOT expects a boolean, got \(value.typeName)")
                }
            case .plus:
                switch value {
                case .null, .int, .double: return value
                default: throw CypherError.type("unary + expects a number, got \(value.typeName)")
                }
            case .minus:
                switch value {
                case .null: return .null
                case .int(let i):
                    guard i != .min else { throw CypherError(.arithmeticError, "integer overflow in negation") }
                    return .int(-i)
                case .double(let d): return .double(-d)
                default: throw CypherError.type("unary - expects a number, got \(value.typeName)")
                }
            }
        case .binary(let op, let lhs, let rhs):
            return try binary(op, lhs, rhs, row)
        case .isNull(let operand, let negated):
            let isNull = try evaluate(operand, row).isNull
            return .bool(negated ? !isNull : isNull)
        case .hasLabels(let operand, let labels):
            switch try evaluate(operand, row) {
            case .null: return .null
            case .node(let node):
                for label in labels where !(try graphCall { try graph.node(node, hasLabel: label) }) {
                    return .bool(false)
                }
                return .bool(true)
            case let other: throw CypherError.type("label predicate expects a node, got \(other.typeName)")
            }
        case .function(let name, _, let arguments)
        where name.lowercased() == "exists" && arguments.count == 1 && arguments[0].isPatternPredicate:
            return try evaluate(arguments[0], row)
        case .function(let name, _, let arguments):
            if FunctionLibrary.aggregateNames.contains(name.lowercased()) {
                // Aggregates are computed by the aggregation operator and read back by name.
                if let slot = layout.existingSlot(AggregateSlot.name(for: expression)), slot < row.count {
                    return row[slot]
                }
                throw CypherError.semantic(
                    "aggregate \(name) is not allowed here", "InvalidAggregation",
                    at: expression.range)
            }
            var values: [Value] = []
            values.reserveCapacity(arguments.count)
            for argument in arguments { values.append(try evaluate(argument, row)) }
            return try FunctionLibrary.call(name, values, self)
        case .caseExpression(let subject, let branches, let otherwise):
            if let subject {
                let value = try evaluate(subject, row)
                for (candidate, result) in branches where value.equals(try evaluate(candidate, row)) == true {
                    return try evaluate(result, row)
                }
            } else {
                for (condition, result) in branches where try isTrue(condition, row) {
                    return try evaluate(result, row)
                }
            }
            return try otherwise.map { (e: Expression) throws(CypherError) in try evaluate(e, row) } ?? .null
        case .listComprehension(let variable, let list, let predicate, let projection):
            let listValue = try evaluate(list, row)
            if listValue.isNull { return .null }
            guard let items = listValue.listElements else {
                throw CypherError.type("a list comprehension needs a list, got \(listValue.typeName)")
            }
            var local = row
            let slot = try localSlot(variable, &local)
            var results: [Value] = []
            for item in items {
                try tick()
                local[slot] = item
                if let predicate, !(try isTrue(predicate, local)) { continue }
                results.append(
                    try projection.map { (e: Expression) throws(CypherError) in try evaluate(e, local) } ?? item)
            }
            return .list(results)
        case .quantifier(let quantifier, let variable, let list, let predicate):
            let listValue = try evaluate(list, row)
            if listValue.isNull { return .null }
            guard let items = listValue.listElements else {
                throw CypherError.type("\(quantifier.rawValue)() needs a list, got \(listValue.typeName)")
            }
            var local = row
            let slot = try localSlot(variable, &local)
            var trueCount = 0
            var nullCount = 0
            for item in items {
                try tick()
                local[slot] = item
                switch try evaluate(predicate, local) {
                case .bool(true): trueCount += 1
                case .bool(false): break
                case .null: nullCount += 1
                case let other:
                    throw CypherError.type("a quantifier predicate must be a boolean, got \(other.typeName)")
                }
            }
            let falseCount = items.count - trueCount - nullCount
            switch quantifier {
            case .all: return falseCount > 0 ? .bool(false) : (nullCount > 0 ? .null : .bool(true))
            case .any: return trueCount > 0 ? .bool(true) : (nullCount > 0 ? .null : .bool(false))
            case .none: return trueCount > 0 ? .bool(false) : (nullCount > 0 ? .null : .bool(true))
            case .single:
                if trueCount > 1 { return .bool(false) }
                return nullCount > 0 ? .null : .bool(trueCount == 1)
            }
        case .mapProjection(let base, let items):
            let value = try evaluate(base, row)
            if value.isNull { return .null }
            var entries: [String: Value] = [:]
            for item in items {
                switch item {
                case .property(let key): entries[key] = try property(key, of: value)
                case .allProperties:
                    switch value {
                    case .node(let node):
                        for (key, property) in try graphCall({ try graph.properties(ofNode: node) }) {
                            entries[key] = Value(property)
                        }
                    case .relationship(let record):
                        for (key, property) in try graphCall({ try graph.properties(ofRelationship: record.id) }) {
                            entries[key] = Value(property)
                        }
                    case .map(let map): entries.merge(map) { _, new in new }
                    default: throw CypherError.type("cannot project properties of a \(value.typeName)")
                    }
                case .entry(let key, let expression): entries[key] = try evaluate(expression, row)
                case .variable(let name): entries[name] = try evaluate(Expression(.variable(name), base.range), row)
                }
            }
            return .map(entries)
        case .patternPredicate(let part):
            return .bool(
                try patternExists(key: expression.description, row) { planner throws(CypherError) in
                    try planner.planPatternPredicate(part)
                })
        case .existsSubquery(let parts, let predicate):
            // Names with a value in this row are the outer variables; the others are the subquery's.
            var names = Set(parts.flatMap(\.namedVariables))
            names.formUnion(predicate?.variables ?? [])
            let bound = names.filter { name in
                guard let slot = layout.existingSlot(name), slot < row.count else { return false }
                return !row[slot].isNull
            }.sorted()
            let key = expression.description + " | " + bound.joined(separator: ",")
            return .bool(
                try patternExists(key: key, row) { planner throws(CypherError) in
                    try planner.planExistence(parts, predicate, bound: bound)
                })
        case .countStar:
            if let slot = layout.existingSlot(AggregateSlot.name(for: expression)), slot < row.count {
                return row[slot]
            }
            throw CypherError.semantic("count(*) is not allowed here", "InvalidAggregation", at: expression.range)
        }
    }

    /// Whether a pattern predicate has a match for `row`: plans the pattern once per query, then
    /// pulls at most one row through it.
    private func patternExists(
        key: String, _ row: Row, plan makePlan: (inout Planner) throws(CypherError) -> PlanNode
    ) throws(CypherError) -> Bool {
        guard let executor else { throw CypherError.semantic("pattern predicates need a running query", "Internal") }
        let plan: PlanNode
        if let cached = patternPlans[key] {
            plan = cached
        } else {
            var planner = Planner(
                graph: graph, procedures: procedures, limits: limits,
                anonymousStart: 1_000_000 * (patternPlans.count + 1))
            plan = try makePlan(&planner)
            executor.register(plan)
            patternPlans[key] = plan
        }
        var argument = row
        if argument.count < layout.width {
            argument.append(contentsOf: repeatElement(.null, count: layout.width - argument.count))
        }
        do {
            let probe: Operator
            if let cached = patternOperators[key] {
                probe = cached
                try probe.reset(argument)
            } else {
                probe = try executor.build(plan, argument: argument)
                patternOperators[key] = probe
            }
            return try probe.next() != nil
        } catch let error as CypherError {
            throw error
        } catch {
            throw CypherError(.graphReadFailed, "reading the graph failed: \(error)")
        }
    }

    /// The slot of a comprehension's local variable, growing `row` if the slot is new.
    private func localSlot(_ name: String, _ row: inout Row) throws(CypherError) -> Int {
        let slot = layout.slot(name)
        if slot >= row.count { row.append(contentsOf: repeatElement(.null, count: slot - row.count + 1)) }
        return slot
    }

    /// Runs a graph call, turning a non-Cypher error into a `CypherError`.
    func graphCall<T>(_ body: () throws -> T) throws(CypherError) -> T {
        do {
            return try body()
        } catch {
            throw Self.graphError(error)
        }
    }

    /// A graph's error as a `CypherError`: as it is, or as `graphReadFailed`.
    static func graphError(_ error: any Error) -> CypherError {
        if let error = error as? CypherError { return error }
        return CypherError(.graphReadFailed, "reading the graph failed: \(error)")
    }

    func isTrue(_ expression: Expression, _ row: Row) throws(CypherError) -> Bool {
        try Self.truth(try evaluate(expression, row))
    }

    /// A value as a predicate: null is false; anything but a boolean is a type error.
    static func truth(_ value: Value) throws(CypherError) -> Bool {
        switch value {
        case .bool(let b): return b
        case .null: return false
        case let other: throw CypherError.type("a predicate must be a boolean, got \(other.typeName)")
        }
    }

    func property(_ key: String, of value: Value) throws(CypherError) -> Value {
        switch value {
        case .null: return .null
        case .node(let node):
            return try graphCall { try graph.property(key, ofNode: node) }.map(Value.init) ?? .null
        case .relationship(let relationship):
            return try graphCall { try graph.property(key, ofRelationship: relationship.id) }.map(Value.init) ?? .null
        case .map(let entries): return entries[key] ?? .null
        default:
            throw CypherError.type(
                "cannot read property '\(key)' of a \(value.typeName)", detail: "PropertyAccessOnNonMap")
        }
    }

    func subscriptValue(_ base: Value, _ index: Value) throws(CypherError) -> Value {
        switch (base, index) {
        case (.null, _), (_, .null): return .null
        case (.map, .string(let key)), (.node, .string(let key)), (.relationship, .string(let key)):
            return try property(key, of: base)
        case (.map, _), (.node, _), (.relationship, _):
            throw CypherError.type(
                "a map key must be a string, got \(index.typeName)", detail: "MapElementAccessByNonString")
        default:
            guard let items = base.listElements else {
                throw CypherError.type("cannot index into a \(base.typeName)")
            }
            guard case .int(let position) = index else {
                throw CypherError.type("a list index must be an integer, got \(index.typeName)")
            }
            let count = Int64(items.count)
            let resolved = position < 0 ? count + position : position
            guard resolved >= 0 && resolved < count else { return .null }
            return items[Int(resolved)]
        }
    }

    func slice(_ base: Value, _ from: Value?, _ to: Value?) throws(CypherError) -> Value {
        if base.isNull || from?.isNull == true || to?.isNull == true { return .null }
        guard let items = base.listElements else { throw CypherError.type("cannot slice a \(base.typeName)") }
        let count = Int64(items.count)
        func resolve(_ value: Value?, _ fallback: Int64) throws(CypherError) -> Int64 {
            guard let value else { return fallback }
            guard case .int(let i) = value else { throw CypherError.type("a slice bound must be an integer") }
            let resolved = i < 0 ? count + i : i
            return min(max(resolved, 0), count)
        }
        let lower = try resolve(from, 0)
        let upper = try resolve(to, count)
        guard lower < upper else { return .list([]) }
        return .list(Array(items[Int(lower)..<Int(upper)]))
    }

    private func binary(
        _ op: Expression.BinaryOperator, _ lhsExpression: Expression, _ rhsExpression: Expression,
        _ row: Row
    ) throws(CypherError) -> Value {
        switch op {
        case .and, .or, .xor:
            let lhs = try logical(try evaluate(lhsExpression, row), op)
            if op == .and && lhs == false { return .bool(false) }
            if op == .or && lhs == true { return .bool(true) }
            let rhs = try logical(try evaluate(rhsExpression, row), op)
            switch op {
            case .and:
                if rhs == false { return .bool(false) }
                if let lhs, let rhs { return .bool(lhs && rhs) }
                return .null
            case .or:
                if rhs == true { return .bool(true) }
                if let lhs, let rhs { return .bool(lhs || rhs) }
                return .null
            default:
                if let lhs, let rhs { return .bool(lhs != rhs) }
                return .null
            }
        default:
            break
        }
        let lhs = try evaluate(lhsExpression, row)
        let rhs = try evaluate(rhsExpression, row)
        if op == .regex, case .string(let text) = lhs, case .string(let pattern) = rhs {
            return .bool(text.wholeMatch(of: try regex(pattern)) != nil)
        }
        return try Self.apply(op, lhs, rhs)
    }

    private func logical(_ value: Value, _ op: Expression.BinaryOperator) throws(CypherError) -> Bool? {
        switch value {
        case .null: return nil
        case .bool(let b): return b
        default: throw CypherError.type("\(op.rawValue) expects booleans, got \(value.typeName)")
        }
    }

    static func apply(_ op: Expression.BinaryOperator, _ lhs: Value, _ rhs: Value) throws(CypherError) -> Value {
        switch op {
        case .equal: return lhs.equals(rhs).map(Value.bool) ?? .null
        case .notEqual: return lhs.equals(rhs).map { .bool(!$0) } ?? .null
        case .less, .greater, .lessOrEqual, .greaterOrEqual:
            if lhs.isNaN || rhs.isNaN { return lhs.numeric != nil && rhs.numeric != nil ? .bool(false) : .null }
            return try compareOperator(op, lhs, rhs)
        default:
            return try arithmeticOrOther(op, lhs, rhs)
        }
    }

    private static func compareOperator(_ op: Expression.BinaryOperator, _ lhs: Value, _ rhs: Value) throws(CypherError)
        -> Value
    {
        switch op {
        case .less: return lhs.compare(rhs).map { .bool($0 < 0) } ?? .null
        case .greater: return lhs.compare(rhs).map { .bool($0 > 0) } ?? .null
        case .lessOrEqual: return lhs.compare(rhs).map { .bool($0 <= 0) } ?? .null
        default: return lhs.compare(rhs).map { .bool($0 >= 0) } ?? .null
        }
    }

    private static func arithmeticOrOther(_ op: Expression.BinaryOperator, _ lhs: Value, _ rhs: Value)
        throws(CypherError) -> Value
    {
        switch op {
        case .in:
            if rhs.isNull { return .null }
            guard let items = rhs.listElements else {
                throw CypherError.type("IN expects a list on its right, got \(rhs.typeName)")
            }
            var sawNull = false
            for item in items {
                switch lhs.equals(item) {
                case true?: return .bool(true)
                case nil: sawNull = true
                default: break
                }
            }
            return sawNull ? .null : .bool(false)
        case .startsWith, .endsWith, .contains:
            guard case .string(let a) = lhs, case .string(let b) = rhs else { return .null }
            switch op {
            case .startsWith: return .bool(a.hasPrefix(b))
            case .endsWith: return .bool(a.hasSuffix(b))
            default: return .bool(b.isEmpty || a.contains(b))
            }
        case .regex:
            // Two strings are matched by the instance method `binary`, which caches the compiled
            // pattern; anything else is null.
            return .null
        case .add: return try add(lhs, rhs)
        case .subtract, .multiply, .divide, .modulo, .power: return try arithmetic(op, lhs, rhs)
        default: return .null
        }
    }

    private static func add(_ lhs: Value, _ rhs: Value) throws(CypherError) -> Value {
        switch (lhs, rhs) {
        case (.null, _), (_, .null): return .null
        case (.string(let a), .string(let b)): return .string(a + b)
        case (.string(let a), .int), (.string(let a), .double), (.string(let a), .bool):
            return .string(a + FunctionLibrary.stringValue(rhs))
        case (.int, .string(let b)), (.double, .string(let b)), (.bool, .string(let b)):
            return .string(FunctionLibrary.stringValue(lhs) + b)
        default:
            if let a = lhs.listElements {
                if let b = rhs.listElements { return .list(a + b) }
                return .list(a + [rhs])
            }
            if let b = rhs.listElements { return .list([lhs] + b) }
            return try arithmetic(.add, lhs, rhs)
        }
    }

    private static func arithmetic(_ op: Expression.BinaryOperator, _ lhs: Value, _ rhs: Value) throws(CypherError)
        -> Value
    {
        switch (lhs, rhs) {
        case (.null, _), (_, .null): return .null
        case (.int(let a), .int(let b)):
            let result: (Int64, Bool)
            switch op {
            case .add: result = a.addingReportingOverflow(b)
            case .subtract: result = a.subtractingReportingOverflow(b)
            case .multiply: result = a.multipliedReportingOverflow(by: b)
            case .divide:
                guard b != 0 else { throw CypherError(.arithmeticError, "division by zero", detail: "DivisionByZero") }
                result = a.dividedReportingOverflow(by: b)
            case .modulo:
                guard b != 0 else { throw CypherError(.arithmeticError, "modulo by zero", detail: "DivisionByZero") }
                result = a.remainderReportingOverflow(dividingBy: b)
            case .power: return .double(cypherPower(Double(a), Double(b)))
            default: return .null
            }
            guard !result.1 else {
                throw CypherError(
                    .arithmeticError, "integer overflow in \(a) \(op.rawValue) \(b)", detail: "IntegerOverflow")
            }
            return .int(result.0)
        default:
            guard let a = lhs.numeric, let b = rhs.numeric else {
                throw CypherError.type("cannot apply \(op.rawValue) to \(lhs.typeName) and \(rhs.typeName)")
            }
            switch op {
            case .add: return .double(a + b)
            case .subtract: return .double(a - b)
            case .multiply: return .double(a * b)
            case .divide: return .double(a / b)
            case .modulo: return .double(a.truncatingRemainder(dividingBy: b))
            case .power: return .double(cypherPower(a, b))
            default: return .null
            }
        }
    }
}

extension Value {
    var isNaN: Bool {
        if case .double(let d) = self { return d.isNaN }
        return false
    }

    /// The value as a `Double`, for integers and floats.
    var numeric: Double? {
        switch self {
        case .int(let i): return Double(i)
        case .double(let d): return d
        default: return nil
        }
    }
}

/// `base ^ exponent`: exact repeated squaring for small integral exponents, `pow` otherwise.
func cypherPower(_ base: Double, _ exponent: Double) -> Double {
    if exponent == exponent.rounded(), abs(exponent) <= 1024 {
        var result = 1.0
        var factor = base
        var power = Int(abs(exponent))
        while power > 0 {
            if power & 1 == 1 { result *= factor }
            factor *= factor
            power >>= 1
        }
        return exponent < 0 ? 1 / result : result
    }
    return pow(base, exponent)
}

extension ExecutionContext {
    /// The compiled regular expression for `pattern`, compiled once per query (a query applies one
    /// pattern to many rows).
    func regex(_ pattern: String) throws(CypherError) -> Regex<AnyRegexOutput> {
        if let cached = regexes[pattern] { return cached }
        do {
            let compiled = try Regex(pattern)
            regexes[pattern] = compiled
            return compiled
        } catch {
            throw CypherError.argument("invalid regular expression '\(pattern)': \(error)", detail: "InvalidRegex")
        }
    }
}
