import EngramTestSupport
import EngramVector
import Testing

@Suite("Distance kernels")
struct DistanceKernelTests {
    @Test("SIMD kernels match a scalar reference", arguments: [1, 7, 16, 100, 384, 385, 1536])
    func kernelsMatchReference(dimension: Int) {
        var generator = SeededGenerator(seed: UInt64(dimension))
        let padded = DistanceKernels.paddedLength(dimension)
        #expect(padded % 16 == 0 && padded >= dimension && padded < dimension + 16)
        var a = [Float](repeating: 0, count: padded)
        var b = [Float](repeating: 0, count: padded)
        for i in 0..<dimension {
            a[i] = Float(Int(generator.next() % 2001) - 1000) / 1000
            b[i] = Float(Int(generator.next() % 2001) - 1000) / 1000
        }
        var dot: Double = 0
        var l2: Double = 0
        for i in 0..<dimension {
            dot += Double(a[i]) * Double(b[i])
            l2 += Double(a[i] - b[i]) * Double(a[i] - b[i])
        }
        let tolerance = 1e-4 * Double(dimension)
        #expect(abs(Double(DistanceKernels.dot(a, b, count: padded)) - dot) < tolerance)
        #expect(abs(Double(DistanceKernels.l2Squared(a, b, count: padded)) - l2) < tolerance)
        #expect(abs(Double(DistanceKernels.distance(a, b, count: padded, metric: .dotProduct)) + dot) < tolerance)
    }

    @Test(
        "Every kernel variant this CPU runs matches the portable Swift kernels",
        arguments: DistanceKernelVariant.allCases, [16, 32, 48, 384, 400, 1536])
    func variantsMatchPortable(variant: DistanceKernelVariant, padded: Int) throws {
        try #require(padded % 16 == 0)
        guard variant.isSupported else { return }  // nothing to run on this CPU
        var generator = SeededGenerator(seed: UInt64(padded) &* 31 &+ UInt64(variant.rawValue.utf8.count))
        // Unaligned starts (one float in) as well as aligned ones: the kernels load unaligned.
        var a = [Float](repeating: 0, count: padded + 1)
        var b = [Float](repeating: 0, count: padded + 1)
        for i in 0..<(padded + 1) {
            a[i] = Float(Int(generator.next() % 2001) - 1000) / 1000
            b[i] = Float(Int(generator.next() % 2001) - 1000) / 1000
        }
        let tolerance: Float = 1e-4 * Float(padded)
        for offset in [0, 1] {
            a.withUnsafeBufferPointer { ap in
                b.withUnsafeBufferPointer { bp in
                    let x = ap.baseAddress! + offset
                    let y = bp.baseAddress! + offset
                    for metric in [VectorMetric.cosine, .dotProduct, .l2] {
                        let function = DistanceFunction(variant: variant, metric: metric)
                        let reference = DistanceKernels.distance(x, y, count: padded, metric: metric)
                        #expect(abs(function(x, y, count: padded) - reference) < tolerance, "\(variant) \(metric)")
                    }
                    let dot = DistanceFunction(variant: variant, metric: .dotProduct).raw(x, y, count: padded)
                    #expect(abs(dot - DistanceKernels.dot(x, y, count: padded)) < tolerance)
                    // Identical vectors: squared distance exactly 0.
                    #expect(DistanceFunction(variant: variant, metric: .l2)(x, x, count: padded) == 0)
                }
            }
        }
    }

    @Test("Batch kernels give the single kernels' distances", arguments: DistanceKernelVariant.allCases)
    func batchesMatchSingleCalls(variant: DistanceKernelVariant) throws {
        guard variant.isSupported else { return }
        let padded = 384
        let stride = padded * 4 + 64  // vectors with a gap between them, as in the graph's arena
        let count = 40
        var generator = SeededGenerator(seed: 99)
        let arena = UnsafeMutableRawPointer.allocate(byteCount: count * stride, alignment: 64)
        defer { arena.deallocate() }
        var query = [Float](repeating: 0, count: padded)
        for i in 0..<padded { query[i] = Float(Int(generator.next() % 2001) - 1000) / 1000 }
        for slot in 0..<count {
            let v = (arena + slot * stride).bindMemory(to: Float.self, capacity: padded)
            for i in 0..<padded { v[i] = Float(Int(generator.next() % 2001) - 1000) / 1000 }
        }
        let slots: [UInt32] = [7, 0, 39, 3, 3, 12, 25]
        var out = [Float](repeating: .nan, count: slots.count)
        for metric in [VectorMetric.cosine, .dotProduct, .l2] {
            let function = DistanceFunction(variant: variant, metric: metric)
            query.withUnsafeBufferPointer { q in
                slots.withUnsafeBufferPointer { s in
                    out.withUnsafeMutableBufferPointer { o in
                        function.batch(
                            q.baseAddress!, arena: arena, stride: stride, slots: s.baseAddress!, n: s.count,
                            count: padded, into: o.baseAddress!)
                    }
                }
                for (i, slot) in slots.enumerated() {
                    let v = (arena + Int(slot) * stride).assumingMemoryBound(to: Float.self)
                    #expect(out[i] == function(q.baseAddress!, v, count: padded), "\(variant) \(metric) slot \(slot)")
                }
            }
        }
    }

    @Test("The chosen variant runs on this CPU; the portable one runs everywhere")
    func bestIsSupported() {
        #expect(DistanceKernelVariant.portable.isSupported)
        #expect(DistanceKernelVariant.best.isSupported)
        #expect(DistanceFunction(metric: .cosine).variant == DistanceKernelVariant.best)
    }

    @Test("Cosine vectors are normalised and padded when prepared")
    func prepareNormalises() throws {
        let v: [Float] = [3, 4, 0]
        var out = [Float](repeating: 9, count: 16)
        try v.withUnsafeBufferPointer { source in
            try out.withUnsafeMutableBufferPointer { destination in
                try DistanceKernels.prepare(source, dimension: 3, metric: .cosine, into: destination.baseAddress!)
            }
        }
        #expect(abs(out[0] - 0.6) < 1e-6 && abs(out[1] - 0.8) < 1e-6)
        #expect(out[3...].allSatisfy { $0 == 0 })
        // Huge components overflow the squared norm; they are scaled, not rejected.
        let huge: [Float] = [3e30, 4e30, 0]
        try huge.withUnsafeBufferPointer { source in
            try out.withUnsafeMutableBufferPointer { destination in
                try DistanceKernels.prepare(source, dimension: 3, metric: .cosine, into: destination.baseAddress!)
            }
        }
        #expect(abs(out[0] - 0.6) < 1e-6 && abs(out[1] - 0.8) < 1e-6)
    }
}
