import EngramCore
import Foundation

extension MemoryContext {
    /// Deletes a user and everything of theirs, in one transaction: the `User` node, their
    /// conversations (with messages and traces), their other traces, and their user- and
    /// agent-scoped memories. Entities, which belong to the tenant, stay.
    /// - Parameter name: the user; a non-administrative context may delete only its own user.
    /// - Returns: how many nodes were deleted.
    /// - Throws: `notPermitted` for another user outside an administrative context; `notFound` for an unknown user.
    @discardableResult
    public func deleteUser(_ name: String) throws -> Int {
        guard isAdministrative || name == user else {
            throw EngramError(.notPermitted, "only an administrative context may delete user '\(name)'")
        }
        return try write { session in
            let graph = session.graph
            guard let userNode = try graph.nodeID(MemorySession.userID(name)) else {
                throw EngramError(.notFound, "there is no user '\(name)' in tenant '\(tenant)'")
            }
            let before = try graph.count(.allNodes)
            try session.deleteOwned { $0.string("user") == name }
            try graph.deleteNode(userNode, detach: true)
            return before - (try graph.count(.allNodes))
        }
    }

    /// Deletes an agent and everything of it, in one transaction: the `Agent` node, the
    /// conversations it took part in (with messages and traces), its other traces, and its
    /// agent-scoped memories. User-scoped memories it wrote belong to their user and stay.
    /// - Parameter name: the agent; a non-administrative context may delete only its own agent.
    /// - Returns: how many nodes were deleted.
    /// - Throws: `notPermitted`; `notFound` for an unknown agent.
    @discardableResult
    public func deleteAgent(_ name: String) throws -> Int {
        guard isAdministrative || name == agent else {
            throw EngramError(.notPermitted, "only an administrative context may delete agent '\(name)'")
        }
        return try write { session in
            let graph = session.graph
            guard let agentNode = try graph.nodeID(MemorySession.agentID(name)) else {
                throw EngramError(.notFound, "there is no agent '\(name)' in tenant '\(tenant)'")
            }
            let before = try graph.count(.allNodes)
            try session.deleteOwned { $0.string("agent") == name }
            try graph.deleteNode(agentNode, detach: true)
            return before - (try graph.count(.allNodes))
        }
    }
}

extension MemorySession {
    /// Deletes the conversations (cascading), traces and memories for which `owned` holds.
    func deleteOwned(_ owned: (MemoryNode) -> Bool) throws {
        for node in try graph.nodes(label: "Conversation") {
            if let record = try graph.memoryNode(node), owned(record) { try deleteConversation(node) }
        }
        for node in try graph.nodes(label: "ReasoningTrace") {
            if let record = try graph.memoryNode(node), owned(record) { try deleteTrace(node) }
        }
        for node in try graph.nodes(label: "Memory") {
            guard let record = try graph.memoryNode(node), owned(record) else { continue }
            let scope = record.string("scope")
            if scope == MemoryScope.user.rawValue || scope == MemoryScope.agent.rawValue {
                try deleteNode(node, in: graph)
            }
        }
    }
}
