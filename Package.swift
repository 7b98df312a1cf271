// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "MageVault",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MageVault", targets: ["MageVault"]),
        .executable(name: "mage-vault", targets: ["mage-vault"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // `serve`: a small HTTP server on Swift concurrency, no SwiftNIO (≈10 s of clean
        // build where Hummingbird costs ≈75 s here).
        .package(url: "https://github.com/swhitty/FlyingFox.git", from: "0.27.1"),
    ],
    targets: [
        // libsodium, linked from the system (Debian: libsodium-dev) through pkg-config.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        .target(name: "MageVault", dependencies: ["CSodium"]),
        // `serve`: the Secrets page and its JSON API, above the library.
        .target(
            name: "MageVaultServer",
            dependencies: ["MageVault", .product(name: "FlyingFox", package: "FlyingFox")]
        ),
        .executableTarget(
            name: "mage-vault",
            dependencies: [
                "MageVault",
                "MageVaultServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        // `make bench`: the benchmark, and the trivial binary whose start is a cold get's floor.
        .executableTarget(name: "mage-vault-bench", dependencies: ["MageVault"]),
        .executableTarget(name: "mage-vault-floor", dependencies: ["MageVault"]),
        .testTarget(name: "MageVaultTests", dependencies: ["MageVault", "MageVaultServer"]),
    ]
)
