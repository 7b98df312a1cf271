import Foundation
import Testing

@testable import MageVault

/// A temporary folder removed when the test ends.
final class TemporaryDirectory {
    let path: String

    init() {
        var base = NSTemporaryDirectory()
        while base.hasSuffix("/") { base.removeLast() }  // paths compare as the tool prints them
        var template = Array((base + "/magevault-test-XXXXXX").utf8CString)
        path = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    deinit { try? FileManager.default.removeItem(atPath: path) }

    func file(_ name: String) -> String { path + "/" + name }
}

/// The repository's top folder, from this file's place in it.
let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// Bytes of a file.
func contents(_ path: String) throws -> [UInt8] {
    [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
}

/// Replaces a file's bytes.
func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
}

/// Permission bits of a file.
func mode(_ path: String) throws -> Int {
    (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as! NSNumber).intValue
}

/// A key from fixed bytes.
func fixedKey(_ first: UInt8 = 0) -> SecureBytes {
    let bytes = (0..<32).map { first &+ UInt8($0) }
    return bytes.withUnsafeBytes { SecureBytes(copying: $0) }
}

/// An environment in `directory` with fixed or fresh parts, opened from its files.
func makeEnvironment(in directory: TemporaryDirectory, _ name: String, log: String? = nil) throws -> Environment {
    let location = EnvironmentLocation(
        dataDirectory: directory.file(name), vaultFile: log.map { directory.file($0) }, variables: [:])
    return try Environment.open(location, create: true)
}

/// Counts of fixed clocks for deterministic ordering.
final class FakeClock: @unchecked Sendable {
    var milliseconds: UInt64
    init(_ start: UInt64 = 1_764_000_000_000) { milliseconds = start }
    func read() -> UInt64 { milliseconds }
}

/// The log's lines (each without its newline); a torn tail is not a line.
func lines(of path: String) throws -> [[UInt8]] {
    var result = try contents(path).split(separator: 0x0A, omittingEmptySubsequences: false).map(Array.init)
    result.removeLast()
    return result
}

/// Joins lines back into a log file's bytes.
func joined(_ lines: [[UInt8]]) -> [UInt8] {
    lines.flatMap { $0 + [0x0A] }
}

/// Recomputes a record line's CRC-32C after a test edited it on purpose, so that the edit
/// reaches the MAC and binding checks rather than stopping at the checksum.
func withFreshChecksum(_ line: [UInt8]) -> [UInt8] {
    var body = Array(line.dropLast(9))
    appendChecksum(to: &body)
    return Array(body.dropLast())
}

/// A new data dir in `directory` holding copies of `environment`'s uuid and key files only,
/// as on another machine that a backup is restored to.
func copyIdentity(of environment: Environment, into directory: String) throws -> Environment {
    let target = EnvironmentLocation(dataDirectory: directory, variables: [:])
    try FileManager.default.createDirectory(atPath: target.secretsDirectory, withIntermediateDirectories: true)
    try FileManager.default.copyItem(atPath: environment.location.uuidFile, toPath: target.uuidFile)
    try FileManager.default.copyItem(atPath: environment.location.keyFile, toPath: target.keyFile)
    return try Environment.open(target, create: false)
}
