/**
 * Checkers over a recorded history: {@link org.etcdjvm.faults.check.Linearizability} per key,
 * {@link org.etcdjvm.faults.check.WatchChecker} for watches, the log, acknowledged writes and
 * expiry, {@link org.etcdjvm.faults.check.FinalStateChecker} for lost writes and convergence,
 * {@link org.etcdjvm.faults.check.LocalReadChecker} for plain local reads. Pure functions of the
 * history: no I/O, no clocks.
 */
package org.etcdjvm.faults.check;
