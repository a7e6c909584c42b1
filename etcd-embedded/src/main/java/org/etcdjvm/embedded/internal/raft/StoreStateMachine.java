package org.etcdjvm.embedded.internal.raft;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.WriteCodec;
import org.etcdjvm.embedded.internal.store.WriteOp;

/**
 * The replicated state machine of the key store: applies each committed batch of writes to the
 * node's local store, in log order, on every replica.
 *
 * <p>Time comes from the log, never from the local clock, so every replica expires the same keys at
 * the same log position: before the operations of a batch run, every key whose expiration is at or
 * before the entry's time is expired. An empty batch is the leader's "tick": it only advances time.
 * Commands and results are our own compact binary encoding ({@link WriteCodec}).
 */
final class StoreStateMachine implements ReplicatedState {
  private final EtcdStore store;

  StoreStateMachine(EtcdStore store) {
    this.store = store;
  }

  @Override
  public byte[] apply(byte[] command, Instant time) {
    List<WriteOp> ops = WriteCodec.decodeOps(command);
    store.expire(time);
    List<Object> outcomes = new ArrayList<>(ops.size());
    for (WriteOp op : ops) {
      outcomes.add(applyOne(op, time));
    }
    return WriteCodec.encodeOutcomes(outcomes);
  }

  private Object applyOne(WriteOp op, Instant now) {
    try {
      return store.apply(op, now);
    } catch (StoreException e) {
      return e;
    } catch (RuntimeException e) {
      // Deterministic on every replica (same input, same code): report it rather than stall the log.
      return new StoreException(EtcdError.RAFT_INTERNAL, "apply: " + e);
    }
  }

  @Override
  public void writeSnapshot(DataOutputStream out) throws IOException {
    store.writeSnapshot(out);
  }

  @Override
  public void readSnapshot(DataInputStream in) throws IOException {
    store.readSnapshot(in);
  }
}
