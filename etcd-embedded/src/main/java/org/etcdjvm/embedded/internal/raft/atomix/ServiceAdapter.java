package org.etcdjvm.embedded.internal.raft.atomix;

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
import org.etcdjvm.embedded.internal.raft.ReplicatedState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The Atomix primitive service that carries our {@link ReplicatedState}: one operation,
 * {@link #APPLY}, whose value is an opaque command; the time of each command is the log's (Atomix
 * stamps every entry with the leader's wall clock when it is appended), never the local clock.
 * Atomix's Kryo sees only byte arrays. A command's result is a reference to its log index; the
 * outcome itself goes to {@link LocalOutcomes}.
 *
 * <p>Checked against Atomix 3.1.12: {@code RaftServiceManager} calls {@link #backup} and
 * {@link #restore} on its state thread, and catches an {@code Exception} from {@code backup}, logs it
 * and completes the snapshot without this service's state (then drops the log it covers).
 */
final class ServiceAdapter implements PrimitiveService {
  private static final Logger log = LoggerFactory.getLogger(ServiceAdapter.class);
  /** The single command. */
  static final OperationId APPLY = OperationId.from("apply", OperationType.COMMAND);

  private static final Serializer SERIALIZER =
      Serializer.using(Namespace.builder().register(Namespaces.BASIC).build());

  /** Starts our part of a snapshot ("ESN1"): then the length and the CRC32 of the state's bytes. */
  static final int SNAPSHOT_MAGIC = 0x45534E31;

  /** Hears how restoring a snapshot went (on Atomix's state thread). */
  interface RestoreListener {
    void restored();

    void failed(Throwable cause);

    /** The command at Raft index {@code index} was applied (and so was flushed to the log before). */
    void applied(long index);
  }

  private final ReplicatedState state;
  private final RestoreListener listener;
  private final LocalOutcomes outcomes;

  ServiceAdapter(ReplicatedState state, RestoreListener listener, LocalOutcomes outcomes) {
    this.state = state;
    this.listener = listener;
    this.outcomes = outcomes;
  }

  @Override
  public void init(ServiceContext context) {
    // nothing: the state lives outside, time comes with each commit
  }

  @Override
  public void tick(WallClockTimestamp timestamp) {
    // Time advances with our own commands (the leader's tick), not with Atomix's scheduler.
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
    byte[] outcome = state.apply(commit.value(), Instant.ofEpochMilli(commit.wallClockTime().unixTimestamp()));
    listener.applied(commit.index());
    Session session = commit.session();
    if (session != null) {
      outcomes.applied(session.sessionId().id(), commit.index(), outcome);
    }
    // Atomix keeps this result in the session's state on every member until the next keep-alive:
    // only a reference, the submitter reads the outcome from its own replica (LocalOutcomes).
    return LocalOutcomes.reference(commit.index());
  }

  @Override
  public void backup(BackupOutput output) {
    SnapshotBytes bytes = new SnapshotBytes();
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      state.writeSnapshot(out);
    } catch (IOException | RuntimeException e) {
      // An Exception would make Atomix complete the snapshot without the state and drop the log it
      // covers: the data would be gone at the next restart. An Error makes it abandon the snapshot
      // and keep the log instead.
      log.error("snapshot of the key store failed; the Raft log is kept instead", e);
      throw new SnapshotFailedError(e);
    }
    java.util.zip.CRC32 crc = new java.util.zip.CRC32();
    crc.update(bytes.buffer(), 0, bytes.size());
    output.writeInt(SNAPSHOT_MAGIC);
    output.writeInt(bytes.size());
    output.writeInt((int) crc.getValue());
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

  /**
   * Restores the state from a snapshot, after checking its length and checksum. Atomix 3.1.12 logs
   * an exception thrown here and carries on with whatever state the service has (an empty store,
   * at start), so a failure is also reported to the listener, which stops the member. Snapshots
   * written before the checksum existed (a bare length) are still read.
   */
  @Override
  public void restore(BackupInput input) {
    try {
      int first = input.readInt();
      byte[] bytes;
      if (first == SNAPSHOT_MAGIC) {
        int length = input.readInt();
        int checksum = input.readInt();
        if (length < 0 || length > input.remaining()) {
          throw new IOException("the snapshot is cut short or its length field is damaged (" + length + " bytes"
              + " announced, " + input.remaining() + " present)");
        }
        bytes = input.readBytes(length);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(bytes);
        if ((int) crc.getValue() != checksum) {
          throw new IOException("the snapshot's checksum does not match its " + length + " bytes");
        }
      } else {
        if (first < 0 || first > input.remaining()) {
          throw new IOException("the snapshot is cut short or its length field is damaged (" + first + " bytes"
              + " announced, " + input.remaining() + " present)");
        }
        bytes = input.readBytes(first);
      }
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
        state.readSnapshot(in);
      }
      listener.restored();
    } catch (IOException | RuntimeException e) {
      listener.failed(e);
      throw new UncheckedIOException(e instanceof IOException io ? io : new IOException(e.toString(), e));
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
