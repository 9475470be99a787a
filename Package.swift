// swift-tools-version: 6.1
//
// Engram — an embedded knowledge-graph memory engine for AI agents.
//
// Module layers (see docs/architecture.md):
//   CEngramLMDB      system library shim for liblmdb (pkg-config `lmdb`, Debian `liblmdb-dev`)
//   EngramCore       value types and the readers-writer lock shared by every layer; no dependencies
//   EngramStorage    the LMDB storage engine; the only importer of CEngramLMDB
//   CEngramKernels   distance kernels for AVX2/AVX-512, chosen at run time (C, no dependencies)
//   EngramVector     HNSW and exact vector search; Swift, with CEngramKernels' kernels
//   EngramEmbedding  the Embedder protocol, MiniLM, hashing and HTTP embedders; no storage dependency
//   EngramCypher     the read-only Cypher front end and executor over a graph protocol; pure Swift
//   Engram           the public facade
//   CEngramEdit      system library shim for libedit (pkg-config `libedit`, Debian `libedit-dev`)
//   EngramREPL       the REPL core (a line in, output out) and the reports the commands share
//   EngramCommand    the `engram` executable
//
// Benchmarks (ordo-one/benchmark) are added only when ENGRAM_BENCHMARKS=1 is set, so that
// `swift build` and `swift test` do not build the benchmark harness.

import PackageDescription
import class Foundation.ProcessInfo

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("ExistentialAny"),
]

var package = Package(
    name: "Engram",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Engram", targets: ["Engram"]),
        .executable(name: "engram", targets: ["EngramCommand"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.1.0"),
    ],
    targets: [
        // MARK: C shim
        .systemLibrary(
            name: "CEngramLMDB",
            pkgConfig: "lmdb",
            providers: [.apt(["liblmdb-dev"])]
        ),

        // MARK: Core values
        .target(name: "EngramCore", swiftSettings: swiftSettings),

        // MARK: Storage
        .target(
            name: "EngramStorage",
            dependencies: ["CEngramLMDB", "EngramCore"],
            swiftSettings: swiftSettings
        ),

        // MARK: Vector
        // The package is built for the baseline CPU; CEngramKernels compiles its kernels per
        // function for AVX2+FMA and AVX-512 and EngramVector picks one at run time (docs/hnsw.md).
        .target(name: "CEngramKernels"),
        .target(
            name: "EngramVector",
            dependencies: ["EngramCore", "CEngramKernels", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: swiftSettings
        ),

        // MARK: Embedding
        // OpenBLAS (Debian `libopenblas0`, any build with `cblas_sgemm`) is loaded at run time by
        // Sources/EngramEmbedding/MiniLM/BLAS.swift, so that it can pick OpenBLAS's kernels before
        // OpenBLAS initialises; nothing is linked at build time.
        .target(
            name: "EngramEmbedding",
            swiftSettings: swiftSettings
        ),

        // MARK: Cypher
        .target(
            name: "EngramCypher",
            dependencies: ["EngramCore"],
            swiftSettings: swiftSettings
        ),

        // MARK: Facade
        .target(
            name: "Engram",
            dependencies: [
                "EngramCore", "EngramStorage", "EngramVector", "EngramEmbedding", "EngramCypher",
                .product(name: "HeapModule", package: "swift-collections"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Command line
        .systemLibrary(
            name: "CEngramEdit",
            pkgConfig: "libedit",
            providers: [.apt(["libedit-dev"])]
        ),
        .target(
            name: "EngramREPL",
            dependencies: ["Engram", "EngramCypher"],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "EngramCommand",
            dependencies: [
                "Engram",
                "EngramREPL",
                "CEngramEdit",
                "EngramStorage",
                "EngramVector",
                "EngramEmbedding",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: Tests
        .target(
            name: "EngramTestSupport",
            dependencies: ["EngramCore"],
            path: "Tests/EngramTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngramCoreTests",
            dependencies: ["EngramCore", "EngramTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngramStorageTests",
            dependencies: ["EngramStorage", "EngramTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngramVectorTests",
            dependencies: ["EngramVector", "EngramTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngramEmbeddingTests",
            dependencies: ["EngramEmbedding", "EngramTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngramCypherTests",
            dependencies: ["EngramCypher", "Engram", "EngramTestSupport"],
            // The TCK floors are read from the source tree by path (see TCKRunnerTests).
            exclude: ["tck-floor.txt", "tck-store-floor.txt"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngramTests",
            dependencies: ["Engram", "EngramStorage", "EngramTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "EngramREPLTests",
            dependencies: ["EngramREPL", "Engram", "EngramTestSupport"],
            swiftSettings: swiftSettings
        ),
    ]
)

// MARK: Native CPU (opt-in)

// Swift on Linux x86-64 compiles for the baseline CPU (SSE2). ENGRAM_NATIVE=1 builds the Swift
// numeric code (the HNSW walk, MiniLM) for this machine's CPU, as the peers' wheels are
// (-march=native). The distance kernels do not need it: CEngramKernels picks AVX2 or AVX-512 at
// run time (docs/hnsw.md). Such a binary may not run on an older CPU.
if ProcessInfo.processInfo.environment["ENGRAM_NATIVE"] == "1" {
    for target in package.targets where ["EngramVector", "EngramEmbedding"].contains(target.name) {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-target-cpu", "native"])]
    }
}

// MARK: Benchmarks (opt-in)

if ProcessInfo.processInfo.environment["ENGRAM_BENCHMARKS"] == "1" {
    package.dependencies.append(
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.29.0", traits: ["MallocInterposer"])
    )
    package.targets.append(
        .executableTarget(
            name: "StorageBenchmarks",
            dependencies: [
                "EngramStorage",
                .product(name: "Benchmark", package: "benchmark"),
            ],
            path: "Benchmarks/StorageBenchmarks",
            swiftSettings: swiftSettings,
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        )
    )
}
