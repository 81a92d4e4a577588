// swift-tools-version: 6.1
// The target graph is layered; each layer depends only on the layers above it in this file:
// 0 vocabulary -> 1 kernel -> 2 domain -> 3 scenario -> 4 results & analysis -> 5 CLI. See docs/architecture.md.
import PackageDescription

let package = Package(
    name: "InferMesh",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "infermesh", targets: ["infermesh"]),
        .executable(name: "infermesh-bench", targets: ["infermesh-bench"]),
        .executable(name: "infermesh-fuzz", targets: ["infermesh-fuzz"]),
        .library(name: "InferMeshCLI", targets: ["InferMeshCLI"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift", from: "0.2.0"),
    ],
    targets: [
        // 0. Vocabulary: the few words (request statuses) the domain and the results store share. No dependencies.
        .target(name: "Vocabulary", path: "Sources/0-vocabulary/Vocabulary"),

        // 1. Kernel: time, events, random streams, digest. Knows nothing about LLMs.
        .systemLibrary(
            name: "CGSL", path: "Sources/1-kernel/CGSL", pkgConfig: "gsl",
            providers: [.apt(["libgsl-dev"])]),
        // SHA-256 from the system's OpenSSL (libssl-dev), linked like GSL: building swift-crypto's BoringSSL from
        // source was about half of a cold build.
        .systemLibrary(
            name: "CLibCrypto", path: "Sources/1-kernel/CLibCrypto", pkgConfig: "libcrypto",
            providers: [.apt(["libssl-dev"])]),
        .target(
            name: "SimKernel",
            dependencies: ["CGSL", "CLibCrypto"],
            path: "Sources/1-kernel/SimKernel"),

        // 2. Domain: the shared vocabulary, then serving, traffic and routing, then the fleet that joins them.
        .target(
            name: "InferenceModel", dependencies: ["Vocabulary", "SimKernel"], path: "Sources/2-domain/InferenceModel"),
        .target(
            name: "Serving",
            dependencies: [
                "InferenceModel", .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
            ],
            path: "Sources/2-domain/Serving"),
        .target(
            name: "Traffic",
            dependencies: ["InferenceModel", .product(name: "HeapModule", package: "swift-collections")],
            path: "Sources/2-domain/Traffic"),
        .target(name: "Routing", dependencies: ["InferenceModel"], path: "Sources/2-domain/Routing"),
        .target(name: "Mesh", dependencies: ["InferenceModel"], path: "Sources/2-domain/Mesh"),
        .target(
            name: "Fleet",
            dependencies: [
                "Serving", "Traffic", "Routing", "Mesh", .product(name: "DequeModule", package: "swift-collections"),
            ],
            path: "Sources/2-domain/Fleet"),

        // 3. Scenario files: YAML to validated domain specs, with located errors.
        .target(
            name: "Scenarios",
            dependencies: [
                "Fleet", "Yams",
                .product(name: "OrderedCollections", package: "swift-collections"),
            ],
            path: "Sources/3-scenario/Scenarios"),

        // 4. Analysis (statistics, theory) and the SQLite results store.
        .target(
            name: "Analysis",
            dependencies: ["Fleet", "CGSL", .product(name: "Histogram", package: "hdrhistogram-swift")],
            path: "Sources/4-results/Analysis"),
        .target(
            name: "ResultsStore", dependencies: ["Vocabulary", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Sources/4-results/ResultsStore"),
        // Calibration: fits a timing profile to the user's step times or benchmark results (`infermesh calibrate`).
        .target(
            name: "Calibration", dependencies: ["Scenarios", "Analysis", "CGSL"], path: "Sources/4-results/Calibration"),

        // 5. The thin CLI: commands live in a library so tests can run them.
        .target(
            name: "InferMeshCLI",
            dependencies: [
                "Scenarios", "Analysis", "ResultsStore", "Calibration",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Sources/5-cli/InferMeshCLI"),
        .executableTarget(name: "infermesh", dependencies: ["InferMeshCLI"], path: "Sources/5-cli/infermesh"),
        // The scenario fuzzer (docs/fuzzing.md): mutants of the scenario files through the loader and short runs;
        // a library so the test suite can run a slice of it, and a thin executable for `make fuzz`.
        .target(
            name: "ScenarioFuzz", dependencies: ["Scenarios", "SimKernel", "Yams"], path: "Sources/5-cli/ScenarioFuzz"),
        .executableTarget(
            name: "infermesh-fuzz",
            dependencies: ["ScenarioFuzz", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Sources/5-cli/infermesh-fuzz"),
        .executableTarget(
            name: "infermesh-bench",
            dependencies: [
                "Fleet", "Analysis",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            path: "Benchmarks/infermesh-bench"),

        // Fixtures several test targets share: temporary folders, the repository root, collectors, sample moments,
        // results rows. A plain target, so test targets can depend on it.
        .target(name: "TestSupport", dependencies: ["ResultsStore"], path: "Tests/TestSupport"),
        .testTarget(name: "SimKernelTests", dependencies: ["SimKernel", "TestSupport"], path: "Tests/SimKernelTests"),
        .testTarget(
            name: "DomainTests", dependencies: ["Fleet", "Analysis", "TestSupport"], path: "Tests/DomainTests",
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ScenariosTests", dependencies: ["Scenarios", "TestSupport"], path: "Tests/ScenariosTests",
            resources: [.copy("Fixtures")]),
        .testTarget(
            name: "ResultsStoreTests", dependencies: ["ResultsStore", "TestSupport"], path: "Tests/ResultsStoreTests"),
        .testTarget(
            name: "ScenarioFuzzTests", dependencies: ["ScenarioFuzz", "TestSupport"], path: "Tests/ScenarioFuzzTests"),
        .testTarget(
            name: "CalibrationTests", dependencies: ["Calibration", "TestSupport"], path: "Tests/CalibrationTests"),
        .testTarget(
            name: "InferMeshCLITests",
            dependencies: ["InferMeshCLI", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")],
            path: "Tests/InferMeshCLITests"),
    ]
)

for target in package.targets where target.type != .system {
    var settings = target.swiftSettings ?? []
    settings.append(.swiftLanguageMode(.v6))
    settings.append(.enableUpcomingFeature("ExistentialAny"))
    settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
    // A run is single-threaded and its state has one owner, so release builds skip the run-time exclusivity
    // checks (about a fifth of the event loop's time in the kernel benchmark). Debug builds keep them.
    settings.append(.unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)))
    target.swiftSettings = settings
}
