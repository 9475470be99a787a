import Foundation
import Synchronization

/// Turns Ctrl-C (`SIGINT`) into a call of `onInterrupt` on an ordinary thread, so that the REPL
/// can cancel its running query instead of dying.
///
/// The signal handler only does what is safe in a signal handler: it sets a flag and writes one
/// byte to a pipe; a thread reading the pipe calls `onInterrupt`.
final class InterruptWatcher: Sendable {
    private static let pipeEnds: (read: Int32, write: Int32) = {
        var ends: [Int32] = [0, 0]
        guard pipe(&ends) == 0 else { return (-1, -1) }
        return (ends[0], ends[1])
    }()
    private static let firedFlag = Atomic<Bool>(false)

    init(onInterrupt: @escaping @Sendable () -> Void) {
        let ends = Self.pipeEnds
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            InterruptWatcher.firedFlag.store(true, ordering: .relaxed)
            var byte: UInt8 = 1
            _ = write(InterruptWatcher.pipeEnds.write, &byte, 1)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0
        sigaction(SIGINT, &action, nil)
        let thread = Thread {
            var byte: UInt8 = 0
            while read(ends.read, &byte, 1) == 1 { onInterrupt() }
        }
        thread.name = "engram-sigint"
        thread.start()
    }

    /// Whether Ctrl-C was pressed since the last ``reset()``.
    var fired: Bool { Self.firedFlag.load(ordering: .relaxed) }

    /// Forgets earlier presses.
    func reset() { Self.firedFlag.store(false, ordering: .relaxed) }
}
