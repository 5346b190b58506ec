import Foundation

/// The wall clock plus an offset the test moves forward, for token expiry without waiting.
final class TestClock: @unchecked Sendable {
    // Safe: `offset` is only touched under `lock`.
    private let lock = NSLock()
    private var offset: TimeInterval = 0

    func advance(by seconds: TimeInterval) { lock.withLock { offset += seconds } }

    /// Now, as this clock says.
    var now: @Sendable () -> Date { { [self] in lock.withLock { Date().addingTimeInterval(offset) } } }
}
