import CSodium

/// libsodium must be initialised once per process before any other call; every entry point
/// of `Crypto/` goes through `Sodium.ready` first.
enum Sodium {
    /// Evaluated once (Swift globals and statics are lazily and atomically initialised).
    static let ready: Void = {
        guard sodium_init() >= 0 else {
            fatalError("libsodium could not be initialised (sodium_init failed)")
        }
    }()
}

/// Fills `buffer` with bytes from the operating system's secure random source.
func randomFill(_ buffer: UnsafeMutableRawBufferPointer) {
    _ = Sodium.ready
    guard let base = buffer.baseAddress, buffer.count > 0 else { return }
    randombytes_buf(base, buffer.count)
}

/// `count` bytes from the operating system's secure random source.
public func randomBytes(_ count: Int) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: count)
    bytes.withUnsafeMutableBytes { randomFill($0) }
    return bytes
}

/// A uniformly random 64-bit integer from the secure random source.
public func randomUInt64() -> UInt64 {
    var value: UInt64 = 0
    withUnsafeMutableBytes(of: &value) { randomFill($0) }
    return value
}
