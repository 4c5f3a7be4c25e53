/// A value — in practice an unsafe pointer or buffer — handed into ``Parallel`` closures whose
/// tasks each touch their own part of the memory behind it, and which outlives the parallel loop.
///
/// This is the one place in Cleave that opts out of `Sendable` checking: the compiler cannot see
/// that the tasks' parts are disjoint, so the kernel that wraps a pointer states it (a comment at
/// the loop) and keeps the pointer's mutability as it is (a read-only pointer stays read-only).
/// Use it only inside kernels, never in a public API.
public struct UncheckedSendable<Value>: @unchecked Sendable {
    public let value: Value
    @inlinable public init(_ value: Value) { self.value = value }
}
