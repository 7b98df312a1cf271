import CSodium

/// Bytes that may be secret: held in `sodium_malloc` memory (guard pages, locked against
/// swapping where the system allows) and wiped by `sodium_free` when released.
///
/// The bytes are reachable only inside `withUnsafeBytes`, so no pointer to them escapes.
/// Keys, plaintexts being sealed and plaintexts just opened all live in one of these.
public final class SecureBytes: @unchecked Sendable {
    // Sendable: the memory is written only during initialisation and never after.
    private let pointer: UnsafeMutableRawPointer?
    /// The number of bytes held.
    public let count: Int

    /// Allocates `count` bytes and lets `initializer` fill them; on a throw the memory is
    /// wiped and released before the error propagates.
    public init(count: Int, initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        _ = Sodium.ready
        self.count = count
        if count == 0 {
            pointer = nil
            try initializer(UnsafeMutableRawBufferPointer(start: nil, count: 0))
            return
        }
        guard let raw = sodium_malloc(count) else {
            fatalError("sodium_malloc(\(count)) failed: out of memory")
        }
        pointer = raw
        do {
            try initializer(UnsafeMutableRawBufferPointer(start: raw, count: count))
        } catch {
            sodium_free(raw)
            throw error
        }
    }

    /// Copies `bytes` into secure memory. The caller stays responsible for its own copy.
    public convenience init(copying bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { $0.copyMemory(from: bytes) }
    }

    /// `count` bytes from the secure random source.
    public static func random(count: Int) -> SecureBytes {
        SecureBytes(count: count) { randomFill($0) }
    }

    deinit {
        if let pointer { sodium_free(pointer) }  // sodium_free wipes before releasing.
    }

    /// Calls `body` with read access to the bytes; the pointer must not escape `body`.
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: pointer, count: count))
    }

    /// Compares in constant time with respect to the contents (the lengths are not secret).
    public func constantTimeEquals(_ other: SecureBytes) -> Bool {
        guard count == other.count else { return false }
        if count == 0 { return true }
        return sodium_memcmp(pointer!, other.pointer!, count) == 0
    }
}
