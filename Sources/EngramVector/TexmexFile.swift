import Foundation

/// A matrix of vectors read from a TEXMEX `.fvecs` (float32) or `.ivecs` (int32) file: `rows`
/// rows of `dimension` components, row-major and contiguous.
///
/// The format (the SIFT1M / GIST1M corpora's, see `../shared/bench/README.md`) has no header:
/// each row is a little-endian `Int32` component count `d` followed by `d` little-endian
/// components; every row of a file has the same `d`.
package struct TexmexMatrix<Element: Sendable>: Sendable {
    /// Components per row.
    package var dimension: Int
    /// The number of rows.
    package var rows: Int
    /// `rows · dimension` components, row after row.
    package var values: [Element]

    /// Row `i`, as an array.
    package func row(_ i: Int) -> ArraySlice<Element> { values[i * dimension..<(i + 1) * dimension] }
}

/// Readers for TEXMEX vector files.
package enum TexmexFile {
    /// Reads a `.fvecs` file in one go.
    ///
    /// - Parameter path: the file.
    /// - Throws: ``VectorIndexError`` `malformedFile` when the file cannot be read, is empty, has
    ///   a non-positive or huge dimension, is truncated, or has rows of different dimensions.
    package static func readFloatVectors(at path: String) throws(VectorIndexError) -> TexmexMatrix<Float> {
        try read(at: path) { Float(bitPattern: $0) }
    }

    /// Reads an `.ivecs` file in one go (ground truth: ids of the true neighbours, best first).
    ///
    /// - Throws: ``VectorIndexError`` `malformedFile` as ``readFloatVectors(at:)``.
    package static func readIntVectors(at path: String) throws(VectorIndexError) -> TexmexMatrix<Int32> {
        try read(at: path) { Int32(bitPattern: $0) }
    }

    /// Parses TEXMEX bytes.
    ///
    /// - Parameters:
    ///   - bytes: the file's contents.
    ///   - path: the name to put into errors.
    ///   - convert: turns a component's little-endian bit pattern into an element.
    package static func parse<Element>(
        _ bytes: UnsafeRawBufferPointer, path: String, convert: (UInt32) -> Element
    ) throws(VectorIndexError) -> TexmexMatrix<Element> {
        guard bytes.count >= 4 else {
            throw .malformedFile(
                path: path, reason: bytes.isEmpty ? "the file is empty" : "the file is shorter than one row header")
        }
        let d = Int(Int32(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(as: UInt32.self))))
        guard (1...(1 << 20)).contains(d) else {
            throw .malformedFile(path: path, reason: "the first row declares \(d) components")
        }
        let rowBytes = 4 * (d + 1)
        guard bytes.count % rowBytes == 0 else {
            throw .malformedFile(
                path: path,
                reason:
                    "\(bytes.count) bytes is not a whole number of \(d)-component rows (\(rowBytes) bytes each): truncated?"
            )
        }
        let rows = bytes.count / rowBytes
        var values: [Element] = []
        values.reserveCapacity(rows * d)
        for r in 0..<rows {
            let start = r * rowBytes
            let rd = Int(
                Int32(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: start, as: UInt32.self))))
            guard rd == d else {
                throw .malformedFile(path: path, reason: "row \(r) declares \(rd) components, the first row \(d)")
            }
            for c in 0..<d {
                let bits = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: start + 4 + 4 * c, as: UInt32.self))
                values.append(convert(bits))
            }
        }
        return TexmexMatrix(dimension: d, rows: rows, values: values)
    }

    private static func read<Element>(at path: String, convert: (UInt32) -> Element) throws(VectorIndexError)
        -> TexmexMatrix<Element>
    {
        let data: Data
        do {
            data = try Data(contentsOf: URL(fileURLWithPath: path), options: [.alwaysMapped])
        } catch {
            throw .malformedFile(path: path, reason: "cannot read the file: \(error.localizedDescription)")
        }
        let result = data.withUnsafeBytes { bytes in
            Result { () throws(VectorIndexError) in try parse(bytes, path: path, convert: convert) }
        }
        return try result.get()
    }
}
