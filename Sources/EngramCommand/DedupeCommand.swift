import ArgumentParser
import Engram
import Foundation

/// `engram dedupe …`: the duplicate review queue and reversible merges of entities.
struct DedupeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dedupe",
        abstract: "List likely duplicate entities, confirm or reject them, merge and unmerge.",
        discussion: """
            Examples:
              engram dedupe list --db memory.engram --type Person --min-score 0.8
              engram dedupe confirm --db memory.engram SOURCE_ID TARGET_ID
              engram dedupe reject --db memory.engram SOURCE_ID TARGET_ID
              engram dedupe merge --db memory.engram SOURCE_ID --into TARGET_ID
              engram dedupe unmerge --db memory.engram SOURCE_ID
            See docs/entity-resolution.md for the score, the bands and the merge rules.
            """,
        subcommands: [List.self, Confirm.self, Reject.self, Merge.self, Unmerge.self]
    )

    /// The options every dedupe subcommand takes.
    struct Common: ParsableArguments {
        @Option(help: "Store directory.") var db: String
        @Option(help: "Tenant.") var tenant = "default"
        @Option(help: "Output format: table or json.") var format: OutputFormat = .table

        func context() throws -> MemoryContext {
            guard format != .csv else { throw ValidationError("dedupe prints table or json, not csv") }
            var configuration = EngramStore.Configuration()
            configuration.createIfMissing = false
            let store = try EngramStore(path: db, configuration: configuration)
            return store.administrativeContext(tenant: tenant)
        }
    }

    struct List: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pairs of entities that may be one, best first (rejected pairs are left out).")

        @OptionGroup var common: Common
        @Option(help: "Only entities of this type.") var type: String?
        @Option(help: "The lowest score listed (default: the review threshold, 0.85).") var minScore: Double?
        @Option(help: "The most pairs listed.") var limit = 100
        @Flag(help: "List the recorded pending SAME_AS pairs (the review queue) instead of searching.") var pending =
            false

        func run() throws {
            let memory = try common.context()
            let pairs =
                pending
                ? try memory.duplicateReviews().filter { type == nil || $0.type == type }
                : try memory.findPotentialDuplicates(type: type, minScore: minScore, limit: limit)
            DedupeCommand.print(pairs, format: common.format)
        }
    }

    struct Confirm: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Confirm a pair: merge SOURCE into TARGET.")
        @OptionGroup var common: Common
        @Argument(help: "The duplicate entity (merged away).") var source: String
        @Argument(help: "The entity it is merged into.") var target: String

        func run() throws {
            let pair = try common.context().reviewDuplicate(source: source, target: target, decision: .confirm)
            DedupeCommand.print([pair], format: common.format)
        }
    }

    struct Reject: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Reject a pair: the two are different and are never proposed again.")
        @OptionGroup var common: Common
        @Argument(help: "One entity of the pair.") var source: String
        @Argument(help: "The other entity.") var target: String

        func run() throws {
            let pair = try common.context().reviewDuplicate(source: source, target: target, decision: .reject)
            DedupeCommand.print([pair], format: common.format)
        }
    }

    struct Merge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Merge SOURCE into the entity given by --into.")
        @OptionGroup var common: Common
        @Argument(help: "The entity merged away (kept as a tombstone).") var source: String
        @Option(help: "The entity it is merged into.") var into: String

        func run() throws {
            let entity = try common.context().merge(source, into: into)
            DedupeCommand.print(entity, format: common.format)
        }
    }

    struct Unmerge: ParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Undo the merge of SOURCE.")
        @OptionGroup var common: Common
        @Argument(help: "The merged entity to restore.") var source: String

        func run() throws {
            let entity = try common.context().unmerge(source)
            DedupeCommand.print(entity, format: common.format)
        }
    }

    static func print(_ pairs: [DuplicateCandidate], format: OutputFormat) {
        if format == .json {
            let objects: [[String: Any]] = pairs.map { pair in
                [
                    "source": pair.sourceID, "target": pair.targetID, "source_name": pair.sourceName,
                    "target_name": pair.targetName, "type": pair.type, "score": pair.score, "band": pair.band.rawValue,
                    "status": pair.status?.rawValue ?? NSNull(), "reasons": pair.reasons,
                ]
            }
            try? printJSON(objects)
            return
        }
        let rows = pairs.map { pair in
            [
                pair.sourceID, pair.sourceName, pair.targetID, pair.targetName, pair.type,
                String(format: "%.3f", pair.score),
                pair.band.rawValue, pair.status?.rawValue ?? "", pair.reasons.joined(separator: "; "),
            ]
        }
        printTable(
            ["source", "source name", "target", "target name", "type", "score", "band", "status", "reasons"], rows)
        Swift.print("\(pairs.count) pair\(pairs.count == 1 ? "" : "s")")
    }

    static func print(_ entity: Entity, format: OutputFormat) {
        if format == .json {
            try? printJSON([
                "id": entity.id, "name": entity.name, "type": entity.type, "aliases": entity.aliases,
                "description": entity.description as Any? ?? NSNull(),
            ])
            return
        }
        printTable(
            ["id", "name", "type", "aliases"],
            [[entity.id, entity.name, entity.type, entity.aliases.joined(separator: ", ")]])
    }

    /// A plain text table: a header, a rule, one line per row, columns padded to their widest cell.
    static func printTable(_ header: [String], _ rows: [[String]]) {
        var widths = header.map(\.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        func line(_ cells: [String]) -> String {
            cells.enumerated().map { $0.element.padding(toLength: widths[$0.offset], withPad: " ", startingAt: 0) }
                .joined(separator: "  ").trimmingCharacters(in: .whitespaces)
        }
        Swift.print(line(header))
        Swift.print(line(widths.map { String(repeating: "-", count: $0) }))
        for row in rows { Swift.print(line(row)) }
    }
}
