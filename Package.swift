// swift-tools-version:6.0
import PackageDescription

// Release builds target a modern x86-64 CPU (AVX2 + FMA, "haswell"). A plain
// `swift build -c release` would target baseline x86-64 (SSE2) and make the SIMD
// kernels 10-90x slower (FMA becomes a libc call). Set CLEAVE_TARGET_CPU to
// override (e.g. "x86-64-v2", "native"); other architectures use the default.
#if arch(x86_64)
let targetCPU = Context.environment["CLEAVE_TARGET_CPU"] ?? "haswell"
let cpuFlags: [SwiftSetting] = [.unsafeFlags(["-target-cpu", targetCPU])]
let cCPUFlags: [CSetting] = [.unsafeFlags(["-march=\(targetCPU)"])]
#else
let cpuFlags: [SwiftSetting] = []
let cCPUFlags: [CSetting] = []
#endif

// `Float.squareRoot()` lowers through a C shim (`__builtin_sqrtf`); with C's default math-errno
// that becomes a square-root instruction plus a libm call on NaN, which keeps every SIMD
// `squareRoot()` a lane-by-lane loop. Cleave never reads errno, so the shims are compiled
// without it: the same correctly rounded results, one vector instruction per SIMD square root.
let mathFlags: [SwiftSetting] = [.unsafeFlags(["-Xcc", "-fno-math-errno"])]

let settings: [SwiftSetting] = cpuFlags + mathFlags

let package = Package(
    name: "Cleave",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "cleave", targets: ["cleave"]),
        .library(name: "CleaveCore", targets: ["CleaveCore"]),
        .library(name: "CleaveFormats", targets: ["CleaveFormats"]),
        .library(name: "CleaveFilters", targets: ["CleaveFilters"]),
        .library(name: "CleaveFeatures", targets: ["CleaveFeatures"]),
        .library(name: "CleaveLearning", targets: ["CleaveLearning"]),
        .library(name: "CleaveObjects", targets: ["CleaveObjects"]),
        .library(name: "CleaveRender", targets: ["CleaveRender"]),
        .library(name: "CleaveNeural", targets: ["CleaveNeural"]),
        .library(name: "CleavePipelines", targets: ["CleavePipelines"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.0.0"),
        // bcrypt for workbench account passwords (issue 23); only its HummingbirdBcrypt product is used.
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        // PostgreSQL as the workbench's alternative database (`cleave serve --database postgres://…`, issue 23).
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
    ],
    targets: [
        .systemLibrary(name: "CZlib", path: "Sources/CZlib", providers: [.apt(["zlib1g-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CBlosc", path: "Sources/CBlosc", providers: [.apt(["libblosc-dev"])]),
        .systemLibrary(name: "CMalloc", path: "Sources/CMalloc"),
        .target(name: "CleaveCore", dependencies: ["CMalloc"], swiftSettings: settings),
        .target(name: "CleaveFormats", dependencies: ["CleaveCore", "CZlib", "CZstd", "CBlosc"], swiftSettings: settings),
        .target(name: "CleaveFilters", dependencies: ["CleaveCore"], swiftSettings: settings),
        .target(name: "CleaveFeatures", dependencies: ["CleaveCore", "CleaveFilters"], swiftSettings: settings),
        .target(name: "CleaveLearning", dependencies: ["CleaveCore"], swiftSettings: settings),
        .target(name: "CleaveObjects", dependencies: ["CleaveCore", "CleaveFilters"], swiftSettings: settings),
        .target(name: "CleaveRender", dependencies: ["CleaveCore"], swiftSettings: settings),
        .target(name: "CleaveNeural", dependencies: ["CleaveCore"], swiftSettings: settings),
        .target(
            name: "CleavePipelines",
            dependencies: ["CleaveCore", "CleaveFormats", "CleaveFilters", "CleaveFeatures",
                           "CleaveLearning", "CleaveObjects", "CleaveRender", "CleaveNeural"],
            swiftSettings: settings),
        .target(
            name: "CleaveServer",
            dependencies: ["CleavePipelines", "CZlib",
                           .product(name: "Hummingbird", package: "hummingbird"),
                           .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                           .product(name: "GRDB", package: "GRDB.swift"),
                           .product(name: "PostgresNIO", package: "postgres-nio")],
            swiftSettings: settings),
        .executableTarget(
            name: "cleave",
            dependencies: ["CleavePipelines", "CleaveServer",
                           .product(name: "ArgumentParser", package: "swift-argument-parser"),
                           .product(name: "Hummingbird", package: "hummingbird")],
            swiftSettings: settings),
        .target(name: "CleaveTestSupport", dependencies: ["CleaveCore"], path: "Sources/CleaveTestSupport"),
        .testTarget(name: "CleaveCoreTests", dependencies: ["CleaveCore"], swiftSettings: settings),
        .testTarget(name: "CleaveFormatsTests", dependencies: ["CleaveTestSupport", "CleaveFormats"],
                    exclude: ["Fixtures"], swiftSettings: settings),
        .testTarget(name: "CleaveFiltersTests", dependencies: ["CleaveTestSupport", "CleaveFilters", "CleaveFormats"], swiftSettings: settings),
        .testTarget(name: "CleaveFeaturesTests", dependencies: ["CleaveTestSupport", "CleaveFeatures", "CleaveFormats"], swiftSettings: settings),
        .testTarget(name: "CleaveLearningTests", dependencies: ["CleaveTestSupport", "CleaveLearning"], swiftSettings: settings),
        .testTarget(name: "CleaveObjectsTests", dependencies: ["CleaveTestSupport", "CleaveObjects", "CleaveFormats"], swiftSettings: settings),
        .testTarget(name: "CleaveRenderTests", dependencies: ["CleaveTestSupport", "CleaveRender"], swiftSettings: settings),
        .testTarget(name: "CleaveNeuralTests", dependencies: ["CleaveTestSupport", "CleaveNeural"], swiftSettings: settings),
        .testTarget(name: "CleavePipelinesTests", dependencies: ["CleaveTestSupport", "CleavePipelines"], swiftSettings: settings),
        .testTarget(
            name: "CleaveServerTests",
            dependencies: ["CleaveTestSupport", "CleaveServer", "CleaveFormats",
                           .product(name: "HummingbirdTesting", package: "hummingbird"),
                           .product(name: "GRDB", package: "GRDB.swift")],
            swiftSettings: settings),
    ],
    swiftLanguageModes: [.v5]
)
