package org.etcdjvm.faults.check;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Linearizability of one key's history against a register model (value or absent), by the
 * Wing&ndash;Gong search with Lowe's memoisation (as in Knossos' and Porcupine's checkers): walk
 * the history's call and return events in time order, linearize pending calls one at a time,
 * backtrack when a return is reached whose call could not be placed, and never explore the same
 * (set of linearized operations, register value) twice.
 *
 * <p>Model. A key starts absent. An acknowledged operation must take effect once between its call
 * and its return, and what the server reported must hold at that point: a read's value; a set's
 * or delete's previous value ({@code prevValue}, {@code newKey}); a compare's expected value. A
 * failed compare or delete that named the current state (error 101 with the current value, error
 * 100) is a read of that state. An operation with an unknown outcome has no return: it may take
 * effect at any point after its call, or never (which is the same as taking effect after every
 * other operation); an unknown compare takes effect only if its expectation held. Failed
 * operations without an observation and unknown reads are left out: they changed nothing.
 *
 * <p>Keys are independent (linearizability is compositional), so the caller checks each key's
 * history on its own; keep each one to a few hundred operations with a bounded number of unknown
 * outcomes, and the search takes milliseconds.
 */
public final class Linearizability {
  /** What the search found. */
  public record Result(boolean linearizable, boolean inconclusive, int operations, int longestPrefix,
      Op stuckOn, String stateAtStuck, List<Op> history, long steps) {
    public String summary() {
      return summary(0);
    }

    /** One sentence; operation times relative to {@code origin} (nanoTime). */
    public String summary(long origin) {
      if (linearizable) {
        return "linearizable (" + operations + " operations, " + steps + " steps)";
      }
      if (inconclusive) {
        return "inconclusive: search budget of " + steps + " steps spent (" + operations + " operations)";
      }
      return "NOT linearizable: at most " + longestPrefix + " of " + operations
          + " operations linearize; then no order explains " + (stuckOn == null ? "?" : stuckOn.describe(origin))
          + " (register " + (stateAtStuck == null ? "<absent>" : stateAtStuck) + ")";
    }
  }

  private static final class Entry {
    final int op;
    final boolean call;
    final long time;
    Entry prev;
    Entry next;
    Entry match;

    Entry(int op, boolean call, long time) {
      this.op = op;
      this.call = call;
      this.time = time;
    }
  }

  private record Memo(long[] bits, String state) {
    @Override
    public boolean equals(Object o) {
      return o instanceof Memo m && Arrays.equals(bits, m.bits) && Objects.equals(state, m.state);
    }

    @Override
    public int hashCode() {
      return Arrays.hashCode(bits) * 31 + Objects.hashCode(state);
    }
  }

  private record Step(boolean legal, String next) {}

  private static final Step ILLEGAL = new Step(false, null);

  private Linearizability() {}

  /** The operations of {@code ops} the model uses (see the class comment). */
  public static List<Op> relevant(List<Op> ops) {
    List<Op> out = new ArrayList<>();
    for (Op op : ops) {
      if (!op.done()) {
        continue;
      }
      switch (op.outcome()) {
        case OK -> out.add(op);
        case FAIL -> {
          if (op.hasObservation()) {
            out.add(op);
          }
        }
        case UNKNOWN -> {
          if (op.kind != Op.Kind.READ) {
            out.add(op);
          }
        }
      }
    }
    return out;
  }

  public static Result check(List<Op> history) {
    return check(history, 20_000_000L);
  }

  /** Checks one key's history; gives up (inconclusive) after {@code budget} search steps. */
  public static Result check(List<Op> history, long budget) {
    List<Op> ops = relevant(history);
    int n = ops.size();
    List<Entry> events = new ArrayList<>(2 * n);
    Entry[] calls = new Entry[n];
    for (int k = 0; k < n; k++) {
      Op op = ops.get(k);
      Entry call = new Entry(k, true, op.invoke);
      boolean unknown = op.outcome() == Op.Outcome.UNKNOWN;
      Entry ret = new Entry(k, false, unknown ? Long.MAX_VALUE : op.complete());
      call.match = ret;
      ret.match = call;
      calls[k] = call;
      events.add(call);
      events.add(ret);
    }
    // Calls before returns at equal times: treating such operations as concurrent never rejects a
    // history that a finer clock would accept.
    events.sort(Comparator.comparingLong((Entry e) -> e.time).thenComparing(e -> e.call ? 0 : 1));
    Entry head = new Entry(-1, false, Long.MIN_VALUE);
    Entry last = head;
    for (Entry e : events) {
      last.next = e;
      e.prev = last;
      last = e;
    }

    Set<Memo> cache = new HashSet<>();
    Deque<Object[]> stack = new ArrayDeque<>();
    BitSet linearized = new BitSet(n);
    String state = null;
    Entry entry = head.next;
    int longest = 0;
    int stuckDepth = -1;
    Op stuck = null;
    String stuckState = null;
    long steps = 0;
    while (head.next != null) {
      if (++steps > budget) {
        return new Result(false, true, n, longest, stuck, stuckState, ops, steps);
      }
      if (entry.call) {
        Op op = ops.get(entry.op);
        Step s = step(state, op);
        if (s.legal) {
          linearized.set(entry.op);
          if (cache.add(new Memo(linearized.toLongArray(), s.next))) {
            stack.push(new Object[] {entry, state});
            state = s.next;
            lift(entry);
            entry = head.next;
            if (stack.size() > longest) {
              longest = stack.size();
            }
            continue;
          }
          linearized.clear(entry.op);
        }
        entry = entry.next;
      } else {
        // A return whose call is still pending: nothing placed so far explains it.
        if (stack.size() > stuckDepth) {
          stuckDepth = stack.size();
          stuck = ops.get(entry.op);
          stuckState = state;
        }
        if (stack.isEmpty()) {
          return new Result(false, false, n, longest, stuck, stuckState, ops, steps);
        }
        Object[] top = stack.pop();
        Entry e = (Entry) top[0];
        state = (String) top[1];
        linearized.clear(e.op);
        unlift(e);
        entry = e.next;
      }
    }
    return new Result(true, false, n, n, null, null, ops, steps);
  }

  /** The register model: may {@code op} take effect on {@code state}, and what is the state after it? */
  static Step step(String state, Op op) {
    Op.Outcome outcome = op.outcome();
    if (outcome == Op.Outcome.FAIL) {
      // a refusal that named the state: a read of it
      return Objects.equals(state, op.observed()) ? new Step(true, state) : ILLEGAL;
    }
    boolean ok = outcome == Op.Outcome.OK;
    boolean observed = ok && op.hasObservation();
    switch (op.kind) {
      case READ:
        return Objects.equals(state, op.observed()) ? new Step(true, state) : ILLEGAL;
      case WRITE:
      case ONCE:
      case TTL:
        if (observed && !Objects.equals(state, op.observed())) {
          return ILLEGAL;
        }
        return new Step(true, op.value);
      case CAS:
        if (Objects.equals(state, op.expect)) {
          return new Step(true, op.value);
        }
        return ok ? ILLEGAL : new Step(true, state);
      case CREATE:
        if (state == null) {
          return new Step(true, op.value);
        }
        return ok ? ILLEGAL : new Step(true, state);
      case DELETE:
        if (ok) {
          if (state == null || observed && !Objects.equals(state, op.observed())) {
            return ILLEGAL;
          }
          return new Step(true, null);
        }
        return new Step(true, null);
      default:
        throw new IllegalArgumentException(op.kind.name());
    }
  }

  private static void lift(Entry call) {
    call.prev.next = call.next;
    if (call.next != null) {
      call.next.prev = call.prev;
    }
    Entry ret = call.match;
    ret.prev.next = ret.next;
    if (ret.next != null) {
      ret.next.prev = ret.prev;
    }
  }

  private static void unlift(Entry call) {
    Entry ret = call.match;
    ret.prev.next = ret;
    if (ret.next != null) {
      ret.next.prev = ret;
    }
    call.prev.next = call;
    if (call.next != null) {
      call.next.prev = call;
    }
  }
}
