// The C interface of `magevault.h`: the only place with `@_cdecl`. A thin adapter: every
// call turns C arguments into the library's types, calls `Vault`, and turns the answer or
// the `VaultError` back into C (0 / -1 and this thread's last error).

import MageVault

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What a `mgv_vault` points at: the open vault (nil while its exact scope does not exist),
/// how to open it again, and a lock that serialises calls (ctypes releases the GIL).
final class VaultHandle: @unchecked Sendable {
    let location: EnvironmentLocation
    let create: Bool
    let exactScope: Bool
    var vault: Vault?
    var writable = false
    private var mutex = pthread_mutex_t()

    init(location: EnvironmentLocation, create: Bool, exactScope: Bool) {
        self.location = location
        self.create = create
        self.exactScope = exactScope
        pthread_mutex_init(&mutex, nil)
    }

    deinit { pthread_mutex_destroy(&mutex) }

    /// Runs `body` holding the handle's lock, with the vault opened if it can be now.
    func withVault<R>(_ body: (Vault?, Bool) throws(VaultError) -> R) throws(VaultError) -> R {
        pthread_mutex_lock(&mutex)
        defer { pthread_mutex_unlock(&mutex) }
        if vault == nil, let opened = try Vault.open(location, create: create, exactScope: exactScope) {
            (vault, writable) = opened
        }
        return try body(vault, writable)
    }
}

// MARK: This thread's last error

/// Per-thread slots: the message (a `strdup`ed C string) and its code.
private let messageKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key) { free($0) }
    return key
}()
private let codeKey: pthread_key_t = {
    var key = pthread_key_t()
    pthread_key_create(&key, nil)
    return key
}()

/// Records `message` and `code` as this thread's last error and returns -1.
private func fail(_ message: String, code: Int32) -> Int32 {
    free(pthread_getspecific(messageKey))
    pthread_setspecific(messageKey, strdup(message))
    pthread_setspecific(codeKey, UnsafeRawPointer(bitPattern: Int(code)))
    return -1
}

private func fail(_ error: VaultError) -> Int32 { fail(error.description, code: error.exitStatus) }

/// Clears this thread's last error at the start of a call.
private func clearError() {
    free(pthread_getspecific(messageKey))
    pthread_setspecific(messageKey, nil)
    pthread_setspecific(codeKey, nil)
}

/// The message of a thread with no failure: "", never freed.
nonisolated(unsafe) private let emptyMessage: UnsafePointer<CChar> = UnsafePointer(strdup("")!)

// MARK: The calls

@_cdecl("mgv_abi_version")
public func mgv_abi_version() -> Int32 { 1 }

@_cdecl("mgv_open_create")
public func mgv_open_create() -> UInt32 { 1 }

@_cdecl("mgv_open_exact_scope")
public func mgv_open_exact_scope() -> UInt32 { 2 }

@_cdecl("mgv_last_error")
public func mgv_last_error() -> UnsafePointer<CChar> {
    pthread_getspecific(messageKey).map { UnsafePointer($0.assumingMemoryBound(to: CChar.self)) } ?? emptyMessage
}

@_cdecl("mgv_last_error_code")
public func mgv_last_error_code() -> Int32 {
    Int32(truncatingIfNeeded: Int(bitPattern: pthread_getspecific(codeKey)))
}

/// A C string argument as text; nil for NULL. Not UTF-8 is refused by the caller.
private func text(_ pointer: UnsafePointer<CChar>?) -> String?? {
    guard let pointer else { return .some(nil) }
    return String(validatingCString: pointer).map { .some($0) } ?? nil
}

@_cdecl("mgv_open")
public func mgv_open(
    _ dataDirectory: UnsafePointer<CChar>?, _ vaultFile: UnsafePointer<CChar>?, _ project: UnsafePointer<CChar>?,
    _ pipeline: UnsafePointer<CChar>?, _ keyFile: UnsafePointer<CChar>?, _ flags: UInt32,
    _ out: UnsafeMutablePointer<UnsafeMutableRawPointer?>?
) -> Int32 {
    clearError()
    guard let out else { return fail("mgv_open: out is NULL", code: 2) }
    out.pointee = nil
    guard let data = text(dataDirectory), let log = text(vaultFile), let project = text(project), let pipeline = text(pipeline),
        let key = text(keyFile)
    else { return fail("mgv_open: an argument is not UTF-8", code: 2) }
    do {
        let scope = try Scope(project: project, pipeline: pipeline)
        let location = EnvironmentLocation(dataDirectory: data, vaultFile: log, scope: scope, keyFile: key)
        let handle = VaultHandle(location: location, create: flags & 1 != 0, exactScope: flags & 2 != 0)
        try handle.withVault { _, _ throws(VaultError) in }  // open now: report a bad location at once
        out.pointee = Unmanaged.passRetained(handle).toOpaque()
        return 0
    } catch {
        return fail(error)
    }
}

private func handle(_ pointer: UnsafeMutableRawPointer?) -> VaultHandle? {
    pointer.map { Unmanaged<VaultHandle>.fromOpaque($0).takeUnretainedValue() }
}

/// Copies `bytes` into `malloc`ed memory for the caller (released by `mgv_free`).
private func handOut(_ bytes: UnsafeRawBufferPointer, to out: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>) {
    let memory = malloc(max(bytes.count, 1))!.assumingMemoryBound(to: UInt8.self)
    if let base = bytes.baseAddress { memory.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
    out.pointee = memory
}

@_cdecl("mgv_get")
public func mgv_get(
    _ vault: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?, _ value: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?,
    _ length: UnsafeMutablePointer<Int>?
) -> Int32 {
    clearError()
    guard let handle = handle(vault), let name, let value, let length else { return fail("mgv_get: a required argument is NULL", code: 2) }
    value.pointee = nil
    length.pointee = 0
    guard let text = String(validatingCString: name) else { return fail("a secret name must be UTF-8", code: 2) }
    do {
        return try handle.withVault { vault, _ throws(VaultError) -> Int32 in
            guard let vault else { return 0 }
            return try vault.withSecretValue(named: text) { bytes in
                guard let bytes else { return 0 }
                handOut(bytes, to: value)
                length.pointee = bytes.count
                return 1
            }
        }
    } catch {
        return fail(error)
    }
}

@_cdecl("mgv_set")
public func mgv_set(
    _ vault: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?, _ value: UnsafePointer<UInt8>?, _ length: Int
) -> Int32 {
    clearError()
    guard let handle = handle(vault), let name, value != nil || length == 0, length >= 0 else {
        return fail("mgv_set: a required argument is NULL", code: 2)
    }
    guard let text = String(validatingCString: name) else { return fail("a secret name must be UTF-8", code: 2) }
    do {
        return try handle.withVault { vault, writable throws(VaultError) -> Int32 in
            guard let vault, writable else { throw .noScope(handle.location.scope, uuidFile: handle.location.uuidFile) }
            try vault.setSecret(named: text, value: UnsafeRawBufferPointer(start: value, count: length))
            return 0
        }
    } catch {
        return fail(error)
    }
}

@_cdecl("mgv_delete")
public func mgv_delete(_ vault: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?) -> Int32 {
    clearError()
    guard let handle = handle(vault), let name else { return fail("mgv_delete: a required argument is NULL", code: 2) }
    guard let text = String(validatingCString: name) else { return fail("a secret name must be UTF-8", code: 2) }
    do {
        return try handle.withVault { vault, writable throws(VaultError) -> Int32 in
            guard let vault, writable else { return 0 }  // a scope that does not exist has nothing to delete
            return try vault.deleteSecret(named: text) ? 1 : 0
        }
    } catch {
        return fail(error)
    }
}

@_cdecl("mgv_list")
public func mgv_list(
    _ vault: UnsafeMutableRawPointer?, _ names: UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?, _ length: UnsafeMutablePointer<Int>?
) -> Int32 {
    clearError()
    guard let handle = handle(vault), let names, let length else { return fail("mgv_list: a required argument is NULL", code: 2) }
    names.pointee = nil
    length.pointee = 0
    do {
        return try handle.withVault { vault, _ throws(VaultError) -> Int32 in
            let summaries = try vault?.secrets() ?? []
            var joined: [UInt8] = []
            for summary in summaries { joined += Array(summary.name.utf8) + [0] }
            joined.withUnsafeBytes { handOut($0, to: names) }
            length.pointee = joined.count
            return Int32(summaries.count)
        }
    } catch {
        return fail(error)
    }
}

@_cdecl("mgv_free")
public func mgv_free(_ bytes: UnsafeMutablePointer<UInt8>?, _ length: Int) {
    guard let bytes else { return }
    // Wiped through a volatile-like path: the store is followed by free, an opaque call.
    UnsafeMutableRawBufferPointer(start: bytes, count: length).initializeMemory(as: UInt8.self, repeating: 0)
    free(bytes)
}

@_cdecl("mgv_close")
public func mgv_close(_ vault: UnsafeMutableRawPointer?) {
    guard let vault else { return }
    Unmanaged<VaultHandle>.fromOpaque(vault).release()
}
