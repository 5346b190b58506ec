import Foundation

/// When and how long to wait before trying an S3 request again: exponential backoff with full jitter
/// (a random wait between 0 and `min(cap, base * 2^attempt)`), at most `maxAttempts` tries, and a budget
/// shared by all requests of a client so that an outage does not multiply the load (AWS SDKs' "standard"
/// retry mode does the same).
///
/// Retried: HTTP 500, 502, 503, 504; `SlowDown`, `RequestTimeout`, `InternalError` and throttling codes;
/// `RequestTimeTooSkewed` (this machine's clock is off: the client signs with S3's time from then on);
/// connection failures and timeouts. Never retried: a conditional write (If-None-Match / If-Match) whose
/// outcome is unknown (a connection error or a 5xx other than 503), because if the first try took effect a
/// repeat would report a false conflict; such a write is retried here only after 503 or
/// `RequestTimeTooSkewed` (the request was refused before it was applied). `S3FileIO.writeIfAbsent` (module
/// IcebergS3) retries the others itself and settles a 412 on a retry by reading the object back.
///
/// ```swift
/// var policy = RetryPolicy()
/// policy.maxAttempts = 8
/// let s3 = S3Client(configuration: config, credentials: chain, retryPolicy: policy)
/// ```
public struct RetryPolicy: Sendable {
    /// Tries in all, the first included.
    public var maxAttempts = 5
    /// The first backoff ceiling.
    public var baseDelay: Duration = .milliseconds(100)
    /// The largest backoff ceiling.
    public var maxDelay: Duration = .seconds(20)
    /// Retry tokens the client starts with; a retry costs 5 (10 after a timeout or connection error), a
    /// success gives 1 back. With none left, errors are returned at once.
    public var budget = 500
    /// Called before each retry's wait with the error that caused it (for metrics; must not block).
    public var onRetry: (@Sendable (S3Error) -> Void)?

    public init() {}

    /// No retries (for tests and callers with their own).
    public static let none: RetryPolicy = {
        var policy = RetryPolicy()
        policy.maxAttempts = 1
        return policy
    }()

    /// The ceiling of the wait before retry number `attempt` (1 for the first retry).
    package func ceiling(forRetry attempt: Int) -> Duration {
        let factor = 1 << min(attempt - 1, 30)
        let ceiling = baseDelay * factor
        return ceiling < maxDelay ? ceiling : maxDelay
    }

    /// Whether an error may be retried, for a request that is (or is not) safe to repeat.
    static func isRetryable(_ error: S3Error, conditional: Bool) -> Bool {
        guard error.isRetryable else { return false }
        // 503 and a clock-skew refusal are answered before the request is applied: safe to repeat.
        if conditional { return error.status == 503 || error.code == S3Client.clockSkewCode }
        return true
    }
}

/// The retry tokens shared by a client's requests.
actor RetryBudget {
    private var tokens: Int
    private let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        tokens = capacity
    }

    /// Takes the cost of a retry; false when the budget is spent.
    func take(_ cost: Int) -> Bool {
        guard tokens >= cost else { return false }
        tokens -= cost
        return true
    }

    func refund(_ amount: Int = 1) { tokens = min(capacity, tokens + amount) }

    var remaining: Int { tokens }
}
