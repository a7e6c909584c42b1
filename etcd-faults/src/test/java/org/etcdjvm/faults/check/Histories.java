package org.etcdjvm.faults.check;

import java.util.ArrayList;
import java.util.List;

/** Small hand-made histories for the checker tests. Times are in "ticks" (any unit). */
final class Histories {
  private final List<Op> ops = new ArrayList<>();
  private int ids;

  static final String K = "/fz/lin/k0";

  Op add(int process, Op.Kind kind, String value, String expect, long invoke, long complete, Op.Outcome outcome) {
    Op op = new Op(++ids, process, kind, K, value, expect, invoke, null);
    if (outcome == Op.Outcome.UNKNOWN) {
      op.complete(Long.MAX_VALUE, outcome, -1, "timeout");
    } else {
      op.complete(complete, outcome, -1, null);
    }
    ops.add(op);
    return op;
  }

  Op write(int p, String v, long a, long b) {
    return add(p, Op.Kind.WRITE, v, null, a, b, Op.Outcome.OK);
  }

  Op read(int p, String seen, long a, long b) {
    return add(p, Op.Kind.READ, null, null, a, b, Op.Outcome.OK).observe(seen);
  }

  Op cas(int p, String expect, String v, long a, long b, Op.Outcome o) {
    return add(p, Op.Kind.CAS, v, expect, a, b, o);
  }

  List<Op> ops() {
    return ops;
  }
}
