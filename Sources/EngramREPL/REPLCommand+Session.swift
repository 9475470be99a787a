import Engram

// The commands that change the session: help, quit, use, parameters, format, timing, width.
extension REPLCommand {
    static let help = REPLCommand(
        name: "help", aliases: ["h", "?"], usage: ":help [COMMAND]", help: "List the commands, or explain one."
    ) { session, argument in
        let name = argument.hasPrefix(":") ? String(argument.dropFirst()) : argument
        if !name.isEmpty {
            guard let command = session.commands.first(where: { $0.name == name || $0.aliases.contains(name) }) else {
                throw REPLUsageError("there is no command ':\(name)'")
            }
            session.write(command.usage + "\n  " + command.help)
            return
        }
        let width = session.commands.map(\.usage.count).max() ?? 0
        var lines = [
            "Cypher statements end with ';' and may span lines (read-only; use :import for CREATE scripts).",
            "Commands:",
        ]
        for command in session.commands {
            lines.append("  " + command.usage + String(repeating: " ", count: width - command.usage.count) + "  " + command.help)
        }
        lines.append("Ctrl-C cancels a running query or the statement being typed; Ctrl-D leaves.")
        session.write(lines.joined(separator: "\n"))
    }

    static let quit = REPLCommand(name: "quit", aliases: ["exit", "q"], usage: ":quit", help: "Leave the REPL.") {
        session, _ in
        session.quit()
    }

    static let use = REPLCommand(
        name: "use", usage: ":use tenant|user|agent [NAME]",
        help: "Switch the tenant, user or agent (no NAME: no user or agent)."
    ) { session, argument in
        let parts = try words(argument)
        guard let what = parts.first, parts.count <= 2 else { throw REPLUsageError("say what to switch") }
        let name = parts.count == 2 ? parts[1] : nil
        switch what {
        case "tenant":
            guard let name else { throw REPLUsageError("a tenant needs a name") }
            guard !name.isEmpty, name != "_global" else { throw REPLUsageError("'\(name)' is not a tenant you can use") }
            session.tenant = name
        case "user": session.user = name
        case "agent": session.agent = name
        default: throw REPLUsageError("'\(what)' is not tenant, user or agent")
        }
        session.writeError("tenant \(session.tenant), user \(session.user ?? "none"), agent \(session.agent ?? "none")")
    }

    static let param = REPLCommand(
        name: "param", usage: ":param NAME => VALUE",
        help: "Set the query parameter $NAME to a Cypher value (a literal, or an expression of other parameters)."
    ) { session, argument in
        guard let arrow = argument.range(of: "=>") else { throw REPLUsageError("write ':param name => value'") }
        var name = argument[..<arrow.lowerBound].trimmingCharacters(in: .whitespaces)
        if name.hasPrefix("$") { name.removeFirst() }
        let expression = argument[arrow.upperBound...].trimmingCharacters(in: .whitespaces)
        guard !name.isEmpty, name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }), !expression.isEmpty else {
            throw REPLUsageError("a parameter needs a name (letters, digits, _) and a value")
        }
        let statement = "RETURN " + expression + " AS value"
        let result: CypherResult
        do {
            result = try session.store.query(statement, parameters: session.parameters, tenant: session.tenant)
        } catch var error as CypherError {
            if error.line == 1, let column = error.column { error.column = max(column - 7, 1) }
            session.report(error, in: expression)
            return
        }
        let value = try propertyValue(result.rows[0][0])
        session.parameters[name] = value
        session.writeError("$\(name) => \(ResultRenderer.shellText(CypherValue(value)))")
    }

    static let params = REPLCommand(
        name: "params", usage: ":params [clear]", help: "List the query parameters, or clear them."
    ) { session, argument in
        switch argument {
        case "clear":
            session.parameters = [:]
            session.writeError("parameters cleared")
        case "":
            let names = session.parameters.keys.sorted()
            guard !names.isEmpty else {
                session.writeError("no parameters; set one with :param name => value")
                return
            }
            session.write(
                names.map { "$\($0) => \(ResultRenderer.shellText(CypherValue(session.parameters[$0]!)))" }
                    .joined(separator: "\n"))
        default: throw REPLUsageError("':params' takes nothing or 'clear'")
        }
    }

    static let format = REPLCommand(
        name: "format", usage: ":format table|json|csv", help: "Choose how results are printed."
    ) { session, argument in
        guard let format = ResultFormat(rawValue: argument) else {
            throw REPLUsageError("'\(argument)' is not a format")
        }
        session.renderer.format = format
        session.writeError("format \(format.rawValue)")
    }

    static let timing = REPLCommand(
        name: "timing", usage: ":timing on|off", help: "Show how long each statement takes."
    ) { session, argument in
        switch argument {
        case "on": session.timing = true
        case "off": session.timing = false
        default: throw REPLUsageError("say on or off")
        }
        session.writeError("timing \(argument)")
    }

    static let width = REPLCommand(
        name: "width", usage: ":width N|off",
        help: "Cut table cells longer than N characters (off: show them whole)."
    ) { session, argument in
        if argument == "off" {
            session.renderer.maximumCellWidth = nil
            session.writeError("cells are shown whole")
            return
        }
        guard let width = Int(argument), width >= 4 else { throw REPLUsageError("give a width of 4 or more, or off") }
        session.renderer.maximumCellWidth = width
        session.writeError("cells are cut at \(width) characters")
    }
}

/// A query result value as a parameter value.
func propertyValue(_ value: CypherValue) throws -> PropertyValue {
    switch value {
    case .null: return .null
    case .boolean(let flag): return .bool(flag)
    case .integer(let number): return .int(number)
    case .float(let number): return .double(number)
    case .string(let text): return .string(text)
    case .bytes(let bytes): return .bytes(bytes)
    case .list(let items): return .list(try items.map(propertyValue))
    case .map(let entries): return .map(try entries.mapValues(propertyValue))
    case .node, .relationship, .path:
        throw REPLUsageError("a parameter holds a value (number, string, boolean, list, map), not a node, relationship or path")
    }
}
