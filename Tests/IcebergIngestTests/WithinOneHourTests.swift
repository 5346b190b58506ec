import Foundation
import Testing
import TestSupport

/// The trait that keeps a wall-clock test within one hour: when it waits, and for how long.
@Suite struct WithinOneHourTests {
    @Test func waitsOnlyWhenTooLittleOfTheHourIsLeft() {
        let hour = 494_000.0 * 3600  // the start of an hour, in seconds since the epoch
        #expect(WithinOneHour.wait(now: hour, seconds: 120) == 0)
        #expect(WithinOneHour.wait(now: hour + 3480, seconds: 120) == 0)  // exactly 120 s left
        #expect(WithinOneHour.wait(now: hour + 3481, seconds: 120) == 120)  // 119 s left: until a second past the turn
        #expect(WithinOneHour.wait(now: hour + 3599.5, seconds: 120) == 1.5)
        #expect(WithinOneHour.wait(now: hour + 3599.5, seconds: 0.25) == 0)
        #expect(WithinOneHour.wait(now: hour + 3000, seconds: 180) == 0)
        #expect(WithinOneHour.wait(now: hour + 3500, seconds: 180) == 101)
    }
}
