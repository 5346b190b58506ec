/// The one error type of IcebergCore: what went wrong, on which object, and whether to try again.
///
/// The message names the table, file, key or field involved; `cause` keeps the underlying error.
public struct IcebergError: Error, Sendable, CustomStringConvertible {
    /// What kind of failure this is; callers switch on it.
    public struct Code: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
        public var rawValue: String
        public init(rawValue: String) { self.rawValue = rawValue }
        public var description: String { rawValue }

        /// A file, table or namespace does not exist.
        public static let notFound = Code(rawValue: "not-found")
        /// Something exists where a create expected nothing (write-if-absent, create table).
        public static let alreadyExists = Code(rawValue: "already-exists")
        /// A commit's requirements did not hold against the current metadata; rebuild and retry.
        public static let commitConflict = Code(rawValue: "commit-conflict")
        /// A concurrent commit made this one invalid, and retrying cannot help (a file to remove is gone).
        public static let validationFailed = Code(rawValue: "validation-failed")
        /// A commit's outcome is unknown (the swap may or may not have happened).
        public static let commitStateUnknown = Code(rawValue: "commit-state-unknown")
        /// Metadata JSON, a manifest or a data file does not follow the spec.
        public static let invalidMetadata = Code(rawValue: "invalid-metadata")
        /// A request that the spec or the table does not allow (bad schema change, unknown field).
        public static let invalidArgument = Code(rawValue: "invalid-argument")
        /// Reading or writing a file failed.
        public static let io = Code(rawValue: "io")
        /// The catalog's store failed.
        public static let catalog = Code(rawValue: "catalog")
        /// Not supported by this implementation.
        public static let unsupported = Code(rawValue: "unsupported")
    }

    public var code: Code
    /// Human-readable; names the table, file, key, line or field.
    public var message: String
    /// The underlying error, if any.
    public var cause: (any Error & Sendable)?
    /// Whether the same operation may succeed if tried again.
    public var isRetryable: Bool

    public init(_ code: Code, _ message: String, cause: (any Error & Sendable)? = nil, isRetryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
        self.isRetryable = isRetryable ?? (code == .commitConflict)
    }

    public var description: String {
        var text = "\(code): \(message)"
        if let cause { text += " (caused by: \(cause))" }
        return text
    }
}
