package org.etcdjvm.embedded.internal.raft;

import io.atomix.primitive.operation.OperationId;
import io.atomix.primitive.operation.OperationType;
import io.atomix.primitive.service.BackupInput;
import io.atomix.primitive.service.BackupOutput;
import io.atomix.primitive.service.Commit;
import io.atomix.primitive.service.PrimitiveService;
import io.atomix.primitive.service.ServiceContext;
import io.atomix.primitive.session.Session;
import io.atomix.primitive.session.SessionId;
import io.atomix.utils.serializer.Namespace;
import io.atomix.utils.serializer.Namespaces;
import io.atomix.utils.serializer.Serializer;
import io.atomix.utils.time.WallClockTimestamp;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.etcdjvm.embedded.internal.store.EtcdError;
import org.etcdjvm.embedded.internal.store.EtcdStore;
import org.etcdjvm.embedded.internal.store.StoreException;
import org.etcdjvm.embedded.internal.store.WriteCodec;
import org.etcdjvm.embedded.internal.store.WriteOp;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The replicated state machine: applies each committed batch of writes to the node's local store,
 * in log order, on every replica.
 *
 * <p>Time comes from the log, never from the local clock: Atomix stamps each entry with the
 * leader's wall clock, so every replica expires the same keys at the same log position. Before the
 * operations of a batch run, every key whose expiration is at or before the entry's time is
 * expired. An empty batch is the leader's "tick": it only advances time.
 *
 * <p>Commands and results are our own compact binary encoding ({@link WriteCodec}), so Atomix's
 * Kryo never sees our types.
 */
final class EtcdStateMachine implements PrimitiveService {
  private static final Logger log = LoggerFactory.getLogger(EtcdStateMachine.class);
  /** The single command: a batch of writes. */
  static final OperationId APPLY = OperationId.from("apply", OperationType.COMMAND);

  private static final Serializer SERIALIZER =
      Serializer.using(Namespace.builder().register(Namespaces.BASIC).build());

  private final EtcdStore store;

  EtcdStateMachine(EtcdStore store) {
    this.store = store;
  }

  @Override
  public void init(ServiceContext context) {
    // nothing: state lives in the store, time comes with each commit
  }

  @Override
  public void tick(WallClockTimestamp timestamp) {
    // Expiry is driven by our own commands (see the class comment), not by Atomix's scheduler.
  }

  @Override
  public Serializer serializer() {
    return SERIALIZER;
  }

  @Override
  public byte[] apply(Commit<byte[]> commit) {
    if (!APPLY.id().equals(commit.operation().id())) {
      throw new IllegalStateException("unknown operation " + commit.operation());
    }
    Instant now = Instant.ofEpochMilli(commit.wallClockTime().unixTimestamp());
    List<WriteOp> ops = WriteCodec.decodeOps(commit.value());
    store.expire(now);
    List<Object> outcomes = new ArrayList<>(ops.size());
    for (WriteOp op : ops) {
      outcomes.add(applyOne(op, now));
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
  public void backup(BackupOutput output) {
    SnapshotBytes bytes = new SnapshotBytes();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      store.writeSnapshot(out);
    } catch (IOException | RuntimeException e) {
      // Atomix catches an Exception thrown here, logs it and still completes the snapshot, without
      // this service's state, and then drops the log the snapshot covers: the data would be lost
      // at the next restart. An Error makes it abandon the snapshot and keep the log instead.
      log.error("snapshot of the key store failed; the Raft log is kept instead", e);
      throw new SnapshotFailedError(e);
    }
    output.writeInt(bytes.size());
    output.write(bytes.buffer(), 0, bytes.size()); // no copy: the store may be large
  }

  /** A ByteArrayOutputStream whose buffer can be written out without a copy. */
  private static final class SnapshotBytes extends ByteArrayOutputStream {
    SnapshotBytes() {
      super(64 * 1024);
    }

    byte[] buffer() {
      return buf;
    }
  }

  /** Thrown from {@link #backup} so that Atomix does not complete a snapshot without the store. */
  static final class SnapshotFailedError extends Error {
    private static final long serialVersionUID = 1L;

    SnapshotFailedError(Throwable cause) {
      super("snapshot of the key store failed", cause);
    }
  }

  @Override
  public void restore(BackupInput input) {
    int length = input.readInt();
    byte[] bytes = input.readBytes(length);
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      store.readSnapshot(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  @Override
  public void register(Session session) {
  }

  @Override
  public void expire(SessionId sessionId) {
  }

  @Override
  public void close(SessionId sessionId) {
  }
}
