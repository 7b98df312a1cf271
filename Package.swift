// swift-tools-version:6.1
import PackageDescription

// What `mage-vault` links is compiled without the implicit imports of `_StringProcessing`
// (regular expressions) and `_Concurrency`, neither of which it uses: linked in anyway, their
// metadata and conformance records cost every start (2.3 MB of binary, 3,100 of its 22,100
// relocations, 14 page faults: a tenth of `--version`). The server (async code) keeps them.
// Only when the Makefile builds (MAGE_VAULT_LEAN=1): SwiftPM refuses a package with unsafe
// flags as a versioned dependency, so a package that depends on MageVault `from:` a version
// sees none (`make from-swift-test` builds such a package).
let linksLean: [SwiftSetting] =
    Context.environment["MAGE_VAULT_LEAN"] == "1"
    ? [
        .unsafeFlags([
            "-Xfrontend", "-disable-implicit-string-processing-module-import",
            "-Xfrontend", "-disable-implicit-concurrency-module-import",
        ])
    ] : []

let package = Package(
    name: "MageVault",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "MageVault", targets: ["MageVault"]),
        .executable(name: "mage-vault", targets: ["mage-vault"]),
        .executable(name: "mage-vault-serve", targets: ["mage-vault-serve"]),
        // The C interface (magevault.h) as a shared library, for Python and every other language.
        .library(name: "magevault", type: .dynamic, targets: ["MageVaultC"]),
    ],
    dependencies: [
        // `serve`. FlyingFox builds in ≈10 s to Hummingbird's ≈75 s, but it imports
        // FoundationNetworking, which cannot be linked with --static-swift-stdlib without
        // libcurl's development files; Hummingbird (SwiftNIO) links statically as is.
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    ],
    targets: [
        // libsodium, linked from the system (Debian: libsodium-dev) through pkg-config.
        .systemLibrary(
            name: "CSodium",
            pkgConfig: "libsodium",
            providers: [.apt(["libsodium-dev"]), .brew(["libsodium"])]
        ),
        // CRC-32C with the CPU's instruction (SSE4.2, ARMv8 CRC) for the per-line checksum.
        .target(name: "CCRC32C"),
        // Starting a helper thread on another CPU than its creator's (`list` opens names on two).
        .target(name: "CThreadPlacement"),
        .target(name: "MageVault", dependencies: ["CSodium", "CCRC32C", "CThreadPlacement"], swiftSettings: linksLean),
        // `serve`: the Secrets page and its JSON API, above the library.
        .target(
            name: "MageVaultServer",
            dependencies: [
                "MageVault",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // What the programs share: the command-line parser, help and completion (no reflection,
        // so a start pays nothing for them), location options, exit codes, progress.
        .target(
            name: "MageVaultCommandLine",
            dependencies: ["MageVault"],
            swiftSettings: linksLean
        ),
        .executableTarget(
            name: "mage-vault",
            dependencies: [
                "MageVault",
                "MageVaultCommandLine",
            ],
            // The order `make install` links its hot functions in (see the Makefile's RELEASE).
            exclude: ["link-order.txt"],
            swiftSettings: linksLean
        ),
        // `mage-vault serve` runs this program: the HTTP stack stays out of `mage-vault`.
        .executableTarget(
            name: "mage-vault-serve",
            dependencies: [
                "MageVault", "MageVaultCommandLine", "MageVaultServer",
            ]
        ),
        // The C interface: `@_cdecl` functions over the library; the header is magevault.h.
        .target(name: "MageVaultC", dependencies: ["MageVault"], exclude: ["magevault.h"]),
        // `make bench`: the benchmark, and the trivial binary whose start is a cold get's floor.
        .executableTarget(name: "mage-vault-bench", dependencies: ["MageVault", "CSodium"]),
        .executableTarget(name: "mage-vault-floor", dependencies: ["MageVault"], swiftSettings: linksLean),
        .testTarget(name: "MageVaultTests", dependencies: ["MageVault", "MageVaultServer", "MageVaultCommandLine", "mage-vault"]),
    ]
)
