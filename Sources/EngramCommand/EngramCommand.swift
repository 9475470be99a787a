import ArgumentParser

@main
struct EngramCommand: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "engram", version: "0.1.0")
}
