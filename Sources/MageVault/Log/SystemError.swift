#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call, with the file it was about: `fdatasync(/…/vault.log): No space left on device`.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The call, as `open` or `fdatasync`.
    public let operation: String
    /// The file or folder it was about.
    public let path: String
    /// The `errno` it set.
    public let code: Int32

    /// Records a failure of `operation` on `path` with `errno` code `code`.
    public init(_ operation: String, _ path: String, code: Int32 = errno) {
        self.operation = operation
        self.path = path
        self.code = code
    }

    /// True for "you may not" errors, as opposed to "it went wrong".
    public var isPermissionProblem: Bool { code == EACCES || code == EPERM || code == EROFS }

    public var description: String { "\(operation)(\(path)): \(String(cString: strerror(code)))" }
}
