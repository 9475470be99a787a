import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A read-only, memory-mapped file. The mapping lives as long as the object; pages are read from
/// disk on first touch and shared with the page cache, so an untouched part costs no memory.
package final class MappedFile: @unchecked Sendable {
    // Safe to share: the mapping is read-only and never changes after init.
    package let base: UnsafeRawPointer
    package let count: Int

    /// Maps `path` read-only.
    /// - Throws: `.modelNotInstalled` when the file does not exist, `.invalidModel` when it cannot be mapped.
    package init(path: String) throws {
        let fd = open(path, O_RDONLY)
        guard fd >= 0 else {
            throw EmbeddingError(
                .modelNotInstalled,
                "cannot open \(path); run `engram model install` (or scripts/install-model.sh)")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_size > 0 else {
            throw EmbeddingError(.invalidModel, "\(path) is empty or unreadable")
        }
        count = Int(info.st_size)
        guard let pointer = mmap(nil, count, PROT_READ, MAP_PRIVATE, fd, 0), pointer != MAP_FAILED else {
            throw EmbeddingError(.invalidModel, "cannot memory-map \(path) (errno \(errno))")
        }
        base = UnsafeRawPointer(pointer)
    }

    deinit {
        munmap(UnsafeMutableRawPointer(mutating: base), count)
    }
}

/// A `.safetensors` file: an 8-byte little-endian header length N, N bytes of JSON naming each tensor's
/// dtype, shape and byte range, then the raw little-endian data. Tensors are views into the mapping.
package struct SafeTensorsFile: Sendable {
    /// One tensor's place in the file.
    package struct Entry: Sendable {
        package let dtype: String
        package let shape: [Int]
        /// Offset of the first byte from the start of the file.
        package let offset: Int
        package let byteCount: Int
    }

    package let file: MappedFile
    package let entries: [String: Entry]

    /// Maps and indexes `path`.
    /// - Throws: `.modelNotInstalled` when it does not exist, `.invalidModel` when its header is malformed.
    package init(path: String) throws {
        file = try MappedFile(path: path)
        guard file.count >= 8 else { throw EmbeddingError(.invalidModel, "\(path) is too short for safetensors") }
        let headerLength = Int(UInt64(littleEndian: file.base.loadUnaligned(as: UInt64.self)))
        guard headerLength > 1, headerLength <= file.count - 8, headerLength < 100_000_000 else {
            throw EmbeddingError(.invalidModel, "\(path) has an invalid safetensors header length")
        }
        let header = Data(bytes: file.base + 8, count: headerLength)
        guard let json = try? JSONSerialization.jsonObject(with: header) as? [String: Any] else {
            throw EmbeddingError(.invalidModel, "\(path) has a safetensors header that is not a JSON object")
        }
        let dataStart = 8 + headerLength
        var entries: [String: Entry] = [:]
        for (name, value) in json where name != "__metadata__" {
            guard let object = value as? [String: Any], let dtype = object["dtype"] as? String,
                let shape = (object["shape"] as? [NSNumber])?.map(\.intValue),
                let range = (object["data_offsets"] as? [NSNumber])?.map(\.intValue), range.count == 2,
                range[0] >= 0, range[0] <= range[1], dataStart + range[1] <= file.count
            else {
                throw EmbeddingError(.invalidModel, "\(path): tensor \(name) has a malformed header entry")
            }
            entries[name] = Entry(
                dtype: dtype, shape: shape, offset: dataStart + range[0], byteCount: range[1] - range[0])
        }
        self.entries = entries
    }

    /// A float32 tensor's data, checked against the expected shape.
    /// - Throws: `.invalidModel` when the tensor is missing, not F32, misaligned or of another shape.
    package func floats(_ name: String, shape: [Int]) throws -> UnsafePointer<Float> {
        guard let entry = entries[name] else {
            throw EmbeddingError(.invalidModel, "the model has no tensor \(name)")
        }
        guard entry.dtype == "F32", entry.shape == shape,
            entry.byteCount == shape.reduce(4, *), entry.offset % MemoryLayout<Float>.alignment == 0
        else {
            throw EmbeddingError(
                .invalidModel, "tensor \(name) is \(entry.dtype) \(entry.shape), expected F32 \(shape)")
        }
        // Safe: in bounds (checked at init), aligned (checked above), and the mapping outlives the
        // model that holds both the file and this pointer.
        return (file.base + entry.offset).assumingMemoryBound(to: Float.self)
    }
}
