import EngramCore
import EngramStorage
import EngramTestSupport

/// A store in a fresh temporary directory with one keyspace, `items`.
final class TestStore {
    let directory: TemporaryDirectory
    var environment: StorageEnvironment!
    let items: Keyspace

    init(options: StorageOptions = StorageOptions(), keyspaces: [String] = ["items"]) throws {
        directory = try TemporaryDirectory(prefix: "engram-storage")
        environment = try StorageEnvironment.open(
            at: directory.appending("store"), options: options, keyspaces: keyspaces.map { KeyspaceDescriptor($0) })
        items = try environment.keyspace(keyspaces[0])
    }

    var path: String { directory.appending("store") }

    /// Drops this object's reference and reopens the store from disk.
    func reopen(options: StorageOptions = StorageOptions()) throws {
        environment = nil
        environment = try StorageEnvironment.open(at: path, options: options, keyspaces: [KeyspaceDescriptor("items")])
    }
}

func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

func key(_ i: Int) -> [UInt8] {
    var writer = KeyWriter()
    writer.append(UInt64(i))
    return writer.bytes
}

extension EngramError.Code {
    /// Whether `body` throws an ``EngramError`` with this code.
    func isThrown(by body: () throws -> Void) -> Bool {
        do {
            try body()
            return false
        } catch let error as EngramError {
            return error.code == self
        } catch {
            return false
        }
    }
}
