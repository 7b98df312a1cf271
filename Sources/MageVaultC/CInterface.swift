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
///
/// A writer's handle creates its scope's uuid and key files on the first write that passes
/// validation, not when it is opened: a refused `mgv_set` (a tab in the name, a value over
/// 1 MiB) leaves the data directory as it was.
final class VaultHandle: @unchecked Sendable {
    let location: EnvironmentLocation
    let create: Bool
    let exactScope: Bool
    var vault: Vault?
    var writable = false
    /// On the heap (a stored `pthread_mutex_t` has no stable address in Swift), and listed in
    /// `ForkGuard` so that no fork can leave it held in the child.
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    init(location: EnvironmentLocation, create: Bool, exactScope: Bool) {
        self.location = location
        self.create = create
        self.exactScope = exactScope
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        ForkGuard.register(mutex)
    }

    deinit {
        ForkGuard.unregister(mutex)
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` holding the handle's lock, with the vault opened if it can be now; with
    /// `creating` (a write that passed validation, on a writer's handle) the scope's files are
    /// created when missing. On a writer's handle, an environment, scope or key file not
    /// created yet is a vault of nil (nothing to read) until such a write.
    func withVault<R>(creating: Bool = false, _ body: (Vault?, Bool) throws(VaultError) -> R)
        throws(VaultError) -> R
    {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if vault == nil || (creating && create && !writable) {
            do {
                if let opened = try Vault.open(location, create: creating && create, exactScope: exactScope) {
                    (vault, writable) = opened
                    // Embedders read the same few secrets again and again (Mage, each block).
                    opened.vault.keepsOpenedValues = true
                }
            } catch {
                switch error {
                case .noEnvironment where create && !creating, .noScope where create && !creating: break
                // A scope with Mage's uuid and no vault key yet (every Mage scope before
                // migrate): nothing to read, unless the log holds records of that uuid, which
                // a new key could not open (then that is the error).
                case .missingKey where create && !creating: try Vault.requireWritableLog(location)
                default: throw error
                }
            }
        }
        return try body(vault, writable)
    }
}

/// Keeps a `fork` from leaving a handle's mutex held in the child (where the thread holding
/// it does not exist, and the next call would wait forever): before the fork every handle's
/// mutex is taken, so no call is half-way through a vault, and both parent and child release
/// them after. The vault's file lock needs nothing here: the library opens its own lock file
/// again in a process that did not open it (see `LockFile`).
enum ForkGuard {
    /// Guards `mutexes`; taken first, before any handle's mutex.
    nonisolated(unsafe) private static let registry: UnsafeMutablePointer<pthread_mutex_t> = {
        let registry = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(registry, nil)
        pthread_atfork(
            { ForkGuard.beforeFork() }, { ForkGuard.afterFork() }, { ForkGuard.afterFork() })
        return registry
    }()
    nonisolated(unsafe) private static var mutexes: [UnsafeMutablePointer<pthread_mutex_t>] = []

    static func register(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        pthread_mutex_lock(registry)
        mutexes.append(mutex)
        pthread_mutex_unlock(registry)
    }

    static func unregister(_ mutex: UnsafeMutablePointer<pthread_mutex_t>) {
        pthread_mutex_lock(registry)
        mutexes.removeAll { $0 == mutex }
        pthread_mutex_unlock(registry)
    }

    private static func beforeFork() {
        pthread_mutex_lock(registry)
        for mutex in mutexes { pthread_mutex_lock(mutex) }
    }

    private static func afterFork() {
        for mutex in mutexes { pthread_mutex_unlock(mutex) }
        pthread_mutex_unlock(registry)
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
        try handle.withVault { _, _ throws(VaultError) in }  // open now (creating nothing): report a bad location at once
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
    guard let value else { return fail("mgv_get: a required argument is NULL", code: 2) }
    value.pointee = nil
    return withValue(vault, name, length, call: "mgv_get") { bytes in handOut(bytes, to: value) }
}

@_cdecl("mgv_get_into")
public func mgv_get_into(
    _ vault: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?, _ buffer: UnsafeMutablePointer<UInt8>?, _ capacity: Int,
    _ length: UnsafeMutablePointer<Int>?
) -> Int32 {
    clearError()
    guard buffer != nil || capacity == 0, capacity >= 0 else { return fail("mgv_get_into: a required argument is NULL", code: 2) }
    return withValue(vault, name, length, call: "mgv_get_into") { bytes in
        guard bytes.count <= capacity, let buffer, let base = bytes.baseAddress else { return }
        buffer.update(from: base.assumingMemoryBound(to: UInt8.self), count: bytes.count)
    }
}

/// What `mgv_get` and `mgv_get_into` share: 1 with `*length` set and the value's bytes given
/// to `deliver` (still in the library's secure memory), 0 when absent, -1 on failure.
private func withValue(
    _ vault: UnsafeMutableRawPointer?, _ name: UnsafePointer<CChar>?, _ length: UnsafeMutablePointer<Int>?, call: String,
    deliver: (UnsafeRawBufferPointer) -> Void
) -> Int32 {
    guard let handle = handle(vault), let name, let length else { return fail("\(call): a required argument is NULL", code: 2) }
    length.pointee = 0
    guard let text = String(validatingCString: name) else { return fail("a secret name must be UTF-8", code: 2) }
    do {
        return try handle.withVault { vault, _ throws(VaultError) -> Int32 in
            guard let vault else { return 0 }
            return try vault.withSecretValue(named: text) { bytes in
                guard let bytes else { return 0 }
                deliver(bytes)
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
        let bytes = UnsafeRawBufferPointer(start: value, count: length)
        try Vault.validateSecret(named: text, value: bytes)  // before anything is created
        return try handle.withVault(creating: true) { vault, writable throws(VaultError) -> Int32 in
            guard let vault, writable else { throw .noScope(handle.location.scope, uuidFile: handle.location.uuidFile) }
            try vault.setSecret(named: text, value: bytes)
            return 0
        }
    } catch {
        return fail(error)
    }
}

@_cdecl("mgv_import")
public func mgv_import(
    _ vault: UnsafeMutableRawPointer?, _ count: Int, _ names: UnsafePointer<UnsafePointer<CChar>?>?,
    _ values: UnsafePointer<UnsafePointer<UInt8>?>?, _ lengths: UnsafePointer<Int>?
) -> Int32 {
    clearError()
    guard let handle = handle(vault), count >= 0, count == 0 || (names != nil && values != nil && lengths != nil) else {
        return fail("mgv_import: a required argument is NULL", code: 2)
    }
    var secrets: [(name: String, value: String)] = []
    secrets.reserveCapacity(count)
    for position in 0..<count {
        let length = lengths![position]
        guard let name = names![position], values![position] != nil || length == 0, length >= 0 else {
            return fail("mgv_import: entry \(position + 1) has a NULL name or value", code: 2)
        }
        guard let text = String(validatingCString: name) else { return fail("entry \(position + 1): a secret name must be UTF-8", code: 2) }
        let bytes = UnsafeBufferPointer(start: values![position], count: length)
        guard let value = String(validating: bytes, as: UTF8.self) else {
            return fail("entry \(position + 1): a secret value must be UTF-8", code: 2)
        }
        secrets.append((text, value))
    }
    do {
        try Vault.checkImport(secrets)  // before anything is created
        guard !secrets.isEmpty else { return 0 }
        return try handle.withVault(creating: true) { vault, writable throws(VaultError) -> Int32 in
            guard let vault, writable else { throw .noScope(handle.location.scope, uuidFile: handle.location.uuidFile) }
            return Int32(clamping: try vault.importSecrets(secrets))
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
