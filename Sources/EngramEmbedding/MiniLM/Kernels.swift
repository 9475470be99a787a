import Foundation

/// The element-wise kernels of the encoder, vectorised with `SIMD16<Float>` (the matrix products go
/// through ``BLAS``). Widths 384 and 1536 are multiples of 16; other widths get a scalar tail.
package enum Kernels {
    package typealias Vector = SIMD16<Float>
    static let lanes = Vector.scalarCount

    @inline(__always)
    static func load(_ pointer: UnsafePointer<Float>) -> Vector {
        UnsafeRawPointer(pointer).loadUnaligned(as: Vector.self)
    }

    @inline(__always)
    static func store(_ value: Vector, _ pointer: UnsafeMutablePointer<Float>) {
        UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector.self)
    }

    /// Adds `bias` to every row of `matrix`.
    static func addBias(_ matrix: UnsafeMutablePointer<Float>, rows: Int, width: Int, bias: UnsafePointer<Float>) {
        precondition(width % lanes == 0)
        for r in 0..<rows {
            let row = matrix + r * width
            var j = 0
            while j < width {
                store(load(row + j) + load(bias + j), row + j)
                j += lanes
            }
        }
    }

    /// `x = LayerNorm(x + residual) · weight + bias` row by row, in place; `residual` may be nil.
    /// The variance is the biased one, as in PyTorch.
    static func layerNorm(
        _ x: UnsafeMutablePointer<Float>, rows: Int, width: Int, residual: UnsafePointer<Float>?,
        norm: MiniLMModel.Norm, epsilon: Float
    ) {
        precondition(width % lanes == 0)
        let count = Float(width)
        for r in 0..<rows {
            let row = x + r * width
            var sum = Vector()
            var j = 0
            if let residual {
                let other = residual + r * width
                while j < width {
                    let value = load(row + j) + load(other + j)
                    store(value, row + j)
                    sum += value
                    j += lanes
                }
            } else {
                while j < width {
                    sum += load(row + j)
                    j += lanes
                }
            }
            let mean = sum.sum() / count
            var squares = Vector()
            j = 0
            while j < width {
                let d = load(row + j) - mean
                squares += d * d
                j += lanes
            }
            let inverse = 1 / (squares.sum() / count + epsilon).squareRoot()
            j = 0
            while j < width {
                let normalised = (load(row + j) - mean) * inverse
                store(normalised * load(norm.weight + j) + load(norm.bias + j), row + j)
                j += lanes
            }
        }
    }

    /// Softmax of every row, in place, with the row maximum subtracted first.
    static func softmaxRows(_ matrix: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        for r in 0..<rows {
            let row = matrix + r * width
            // Float reductions do not vectorise by themselves (their order matters), so the
            // maximum and the sum use sixteen independent lanes.
            var j = 0
            var lanesMaximum = Vector(repeating: -.infinity)
            while j + lanes <= width {
                let value = load(row + j)
                lanesMaximum = lanesMaximum.replacing(with: value, where: value .> lanesMaximum)
                j += lanes
            }
            var maximum = lanesMaximum.max()
            while j < width {
                maximum = max(maximum, row[j])
                j += 1
            }
            for j in 0..<width { row[j] = exp(row[j] - maximum) }
            var lanesTotal = Vector()
            j = 0
            while j + lanes <= width {
                lanesTotal += load(row + j)
                j += lanes
            }
            var total = lanesTotal.sum()
            while j < width {
                total += row[j]
                j += 1
            }
            let inverse = 1 / total
            for j in 0..<width { row[j] *= inverse }
        }
    }

    /// The exact (erf) GELU, `0.5 · x · (1 + erf(x / √2))`, in place.
    static func gelu(_ values: UnsafeMutablePointer<Float>, count: Int) {
        let inverseRoot2 = Float(0.5.squareRoot())
        for j in 0..<count {
            let x = values[j]
            values[j] = 0.5 * x * (1 + erf(x * inverseRoot2))
        }
    }

    // The two functions below are branch-free scalar code (selects, no traps, no calls) so that the
    // optimiser vectorises the loops above that inline them; Swift's generic SIMD conversions and
    // rounding are per-lane library calls on this target and were measured 10× slower.

    /// A single-precision erf: Eigen's / XLA's rational approximation on [-4, 4] (erf is ±1 in float
    /// beyond), within 5e-7 of libm's erf (about 4 ULP near ±1; the kernel test checks it).
    @inline(__always)
    package static func erf(_ input: Float) -> Float {
        let x = input < -4 ? -4 : (input > 4 ? 4 : input)
        let x2 = x * x
        var p = x2 * -2.72614225801306e-10 + 2.77068142495902e-08
        p = x2 * p + -2.10102402082508e-06
        p = x2 * p + -5.69250639462346e-05
        p = x2 * p + -7.34990630326855e-04
        p = x2 * p + -2.95459980854025e-03
        p = x2 * p + -1.60960333262415e-02
        p = x * p
        var q = x2 * -1.45660718464996e-05 + -2.13374055278905e-04
        q = x2 * q + -1.68282697438203e-03
        q = x2 * q + -7.37332916720468e-03
        q = x2 * q + -1.42647390514189e-02
        return p / q
    }

    /// A single-precision exp (Cephes `expf`: range reduction by ln 2 in two parts, a degree-6
    /// polynomial, scaling by 2ⁿ through the exponent bits), within 2 ULP of libm's for inputs in
    /// [-87, 88]; smaller inputs give exactly 0, as the softmax of a far-off score should.
    @inline(__always)
    package static func exp(_ input: Float) -> Float {
        let low: Float = -87.33654
        let x = input < low ? low : (input > 88.37626 ? 88.37626 : input)
        // Adding 1.5·2²³ rounds to the nearest integer n, which then sits in the low mantissa bits.
        let shifted = x * 1.44269504088896341 + 12_582_912
        let n = shifted - 12_582_912
        var r = x - n * 0.693359375
        r = r - n * -2.12194440e-4
        let r2 = r * r
        var p = 1.9875691500e-4 * r + 1.3981999507e-3
        p = p * r + 8.3334519073e-3
        p = p * r + 4.1665795894e-2
        p = p * r + 1.6666665459e-1
        p = p * r + 5.0000001201e-1
        p = p * r2 + r + 1
        let scale = Float(bitPattern: (shifted.bitPattern &- 0x4B40_0000 &+ 127) &<< 23)
        return input < low ? 0 : p * scale
    }
}
