extension Array where Element == UInt8 {
    /// `withUnsafeBytes` that keeps the body's typed error (the standard library's version
    /// erases it to `any Error`).
    func withBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let result: Result<R, E> = withUnsafeBytes { raw in Result { () throws(E) in try body(raw) } }
        return try result.get()
    }
}
