// swift-tools-version:6.0
import PackageDescription

// The arrows only point down: homerules -> HomeRules -> (Rules, EventLog,
// MQTTBroker, MQTTClient) -> MQTT -> MQTTTopics (Rules uses MQTTTopics too).
// See docs/architecture.md.
let package = Package(
    name: "homerules",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "homerules", targets: ["homerules"]),
        .library(name: "MQTTTopics", targets: ["MQTTTopics"]),
        .library(name: "MQTT", targets: ["MQTT"]),
        .library(name: "MQTTBroker", targets: ["MQTTBroker"]),
        .library(name: "MQTTClient", targets: ["MQTTClient"]),
        .library(name: "Rules", targets: ["Rules"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        // Already built for NIO; its Deque allocates nothing while empty.
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
    ],
    targets: [
        // Topic names and filters: one copy of MQTT's rules for the codec, the
        // broker, the ACL, the client and the rules engine. No dependencies.
        .target(name: "MQTTTopics"),
        .target(
            name: "MQTT",
            dependencies: [
                "MQTTTopics", .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "DequeModule", package: "swift-collections"),
            ]
        ),
        .target(
            name: "MQTTBroker",
            dependencies: [
                "MQTT", "MQTTTopics",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "DequeModule", package: "swift-collections"),
                .product(name: "HeapModule", package: "swift-collections"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "MQTTClient",
            dependencies: [
                "MQTT", "MQTTTopics",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "Rules",
            dependencies: ["MQTTTopics", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "EventLog",
            dependencies: [
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "HomeRules",
            dependencies: [
                "MQTT", "MQTTBroker", "MQTTClient", "MQTTTopics", "Rules", "EventLog",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "homerules",
            dependencies: [
                "HomeRules", "MQTT", "MQTTBroker", "MQTTClient", "Rules", "EventLog",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The readers of untrusted input under libFuzzer (Fuzz/run builds it
        // with -sanitize=fuzzer); built plainly, it replays inputs from files.
        .executableTarget(name: "homerules-fuzz", dependencies: ["FuzzSupport", "HomeRules", "MQTTBroker", "Rules"]),
        // The MQTT packet decoder alone: libFuzzer walks the coverage counters
        // of everything linked after every input, and the daemon links a lot.
        .executableTarget(
            name: "homerules-fuzz-packet",
            dependencies: ["FuzzSupport", "MQTT", .product(name: "NIOCore", package: "swift-nio")]
        ),
        .target(name: "FuzzSupport"),

        // Shared helpers for tests: peer discovery (mosquitto, paho), temp dirs,
        // and expectations about our client that several test targets make.
        .target(name: "TestSupport", dependencies: ["MQTTClient"], path: "Tests/TestSupport"),
        .testTarget(name: "MQTTTopicsTests", dependencies: ["MQTTTopics", "TestSupport"]),
        .testTarget(
            name: "MQTTTests",
            dependencies: [
                "MQTT", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MQTTBrokerTests",
            dependencies: [
                "MQTT", "MQTTBroker", "MQTTClient", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "MQTTClientTests",
            dependencies: [
                "MQTT", "MQTTClient", "MQTTBroker", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ]
        ),
        .testTarget(name: "RulesTests", dependencies: ["Rules", "MQTTTopics", "TestSupport"]),
        .testTarget(
            name: "EventLogTests",
            dependencies: ["EventLog", "TestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        .testTarget(
            name: "HomeRulesTests",
            dependencies: [
                "HomeRules", "homerules", "MQTT", "MQTTBroker", "MQTTClient", "Rules", "EventLog", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
    ]
)
