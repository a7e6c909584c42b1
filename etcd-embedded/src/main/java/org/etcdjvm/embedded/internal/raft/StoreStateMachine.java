package org.etcdjvm.embedded.internal.raft;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.Outcome;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.WriteCodec;
import org.etcdjvm.embedded.internal.store.WriteOp;

/**
 * The replicated state machine of the key store: applies each committed batch of writes to the
 * node's local store, in log order, on every replica.
 *
 * <p>Time comes from the log, never from the local clock, so every replica expires the same keys at
 * the same log position: each command carries the {@link LogClock} time the leader stamped it with
 * (never earlier than the command before), and before the operations of a batch run, every key
 * whose expiration is at or before that time is expired. An empty batch is the leader's "tick": it
 * only advances time. Commands and results are our own compact binary encoding ({@link WriteCodec}).
 * Snapshots carry the log time too.
 */
final class StoreStateMachine implements ReplicatedState {
  /** Written before the store in a snapshot, so a snapshot of the store alone ("ETCD") is told apart. */
  private static final long SNAPSHOT_TIME_MARK = 0x4C4F4754494D4531L; // "LOGTIME1": the log time
  /** As above, followed by the log time and the leader's wall clock when it appended that command. */
  private static final long SNAPSHOT_TIMES_MARK = 0x4C4F4754494D4532L; // "LOGTIME2"

  private final EtcdStore store;
  private final LogClock clock;

  StoreStateMachine(EtcdStore store, LogClock clock) {
    this.store = store;
    this.clock = clock;
  }

  /**
   * @param entryTime the leader's wall clock when it appended the entry (Atomix's stamp): used only
   *     for commands written before commands carried their own time
   */
  @Override
  public byte[] apply(byte[] command, Instant entryTime) {
    WriteCodec.Command decoded = WriteCodec.decodeCommand(command);
    boolean stamped = decoded.time() != null && !decoded.time().equals(LogClock.UNSTAMPED);
    Instant time = clock.applyTime(decoded.time(), entryTime);
    List<WriteOp> ops = decoded.ops();
    store.expire(time);
    List<Outcome> outcomes = new ArrayList<>(ops.size());
    for (WriteOp op : ops) {
      outcomes.add(applyOne(op, time));
    }
    clock.applied(time, stamped, entryTime);
    return WriteCodec.encodeOutcomes(outcomes);
  }

  private Outcome applyOne(WriteOp op, Instant now) {
    try {
      return new Outcome.Applied(store.apply(op, now));
    } catch (StoreException e) {
      return new Outcome.Failed(e);
    } catch (RuntimeException e) {
      // Deterministic on every replica (same input, same code): report it rather than stall the log.
      return new Outcome.Failed(new StoreException(EtcdError.RAFT_INTERNAL, "apply: " + e));
    }
  }

  @Override
  public void writeSnapshot(DataOutputStream out) throws IOException {
    Instant time = clock.lastApplied();
    Instant wall = clock.lastStampedWall();
    if (time != null && wall != null) {
      out.writeLong(SNAPSHOT_TIMES_MARK);
      writeInstant(out, time);
      writeInstant(out, wall);
    } else if (time != null) {
      out.writeLong(SNAPSHOT_TIME_MARK);
      writeInstant(out, time);
    }
    store.writeSnapshot(out);
  }

  @Override
  public void readSnapshot(DataInputStream in) throws IOException {
    in.mark(16);
    Instant time = null;
    Instant wall = null;
    long mark = in.readLong();
    if (mark == SNAPSHOT_TIMES_MARK) {
      time = readInstant(in);
      wall = readInstant(in);
    } else if (mark == SNAPSHOT_TIME_MARK) {
      time = readInstant(in);
    } else {
      in.reset(); // a snapshot of the store alone
    }
    store.readSnapshot(in);
    if (time != null) {
      clock.applied(time, true, wall);
    }
  }

  private static void writeInstant(DataOutputStream out, Instant t) throws IOException {
    out.writeLong(t.getEpochSecond());
    out.writeInt(t.getNano());
  }

  private static Instant readInstant(DataInputStream in) throws IOException {
    return Instant.ofEpochSecond(in.readLong(), in.readInt());
  }
}
