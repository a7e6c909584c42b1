package org.etcdjvm.embedded.internal.store;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Binary codec for replicating writes in one Raft command, and their results back to the submitter.
 *
 * <p>Stateless and thread-safe. Each message starts with a format byte so the format can evolve.
 * Every string round-trips exactly (lone surrogates included) and instants keep nanoseconds. Decoding
 * bytes that this class did not produce fails with {@link IllegalArgumentException}; encoding a list
 * with a null element fails with {@link NullPointerException}.
 */
public final class WriteCodec {
  private static final int OPS_FORMAT = 0x51;
  /** A batch stamped with the log's time (see {@link #encodeCommand}). */
  private static final int TIMED_OPS_FORMAT = 0x53;
  private static final int OUTCOMES_FORMAT = 0x52;
  private static final int SET = 1;
  private static final int DELETE = 2;
  private static final int EVENT = 1;
  private static final int ERROR = 2;

  private WriteCodec() {}

  /** A batch of writes and the log time it is applied at; {@code time} is null in commands written before it existed. */
  public record Command(java.time.Instant time, List<WriteOp> ops) {}

  /** Encodes a batch of writes, in order, stamped with the log's time. */
  public static byte[] encodeCommand(java.time.Instant time, List<WriteOp> ops) {
    return encode(time, ops);
  }

  /** Decodes what {@link #encodeCommand} (or, without a time, {@link #encodeOps}) produced. */
  public static Command decodeCommand(byte[] bytes) {
    if (bytes.length > 0 && (bytes[0] & 0xff) == TIMED_OPS_FORMAT) {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
      try {
        in.readUnsignedByte();
        java.time.Instant time = BinaryIO.readInstant(in);
        return new Command(time, decodeOpsFrom(in, bytes.length));
      } catch (IOException e) {
        throw new IllegalArgumentException("corrupt write ops: " + e.getMessage(), e);
      }
    }
    return new Command(null, decodeOps(bytes));
  }

  /** Encodes a batch of writes, in order. */
  public static byte[] encodeOps(List<WriteOp> ops) {
    return encode(null, ops);
  }

  private static byte[] encode(java.time.Instant time, List<WriteOp> ops) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 * Math.max(1, ops.size()));
    DataOutputStream out = new DataOutputStream(bytes);
    try {
      if (time != null) {
        out.writeByte(TIMED_OPS_FORMAT);
        BinaryIO.writeInstant(out, time);
      } else {
        out.writeByte(OPS_FORMAT);
      }
      out.writeInt(ops.size());
      for (WriteOp op : ops) {
        if (op instanceof SetOp set) {
          out.writeByte(SET);
          BinaryIO.writeString(out, set.key());
          out.writeBoolean(set.internal());
          BinaryIO.writeString(out, set.value());
          BinaryIO.writeString(out, set.prevValue());
          BinaryIO.writeInstant(out, set.expiration());
        } else {
          DeleteOp delete = (DeleteOp) op;
          out.writeByte(DELETE);
          BinaryIO.writeString(out, delete.key());
          out.writeBoolean(delete.internal());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // cannot happen in memory
    }
    return bytes.toByteArray();
  }

  /** Decodes what {@link #encodeOps} produced. */
  public static List<WriteOp> decodeOps(byte[] bytes) {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    try {
      expectFormat(in, OPS_FORMAT);
      return decodeOpsFrom(in, bytes.length);
    } catch (IOException e) {
      throw new IllegalArgumentException("corrupt write ops: " + e.getMessage(), e);
    }
  }

  private static List<WriteOp> decodeOpsFrom(DataInputStream in, int totalBytes) throws IOException {
    {
      int count = count(in, totalBytes);
      List<WriteOp> ops = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int type = in.readUnsignedByte();
        String key = BinaryIO.readNonNullString(in);
        boolean internal = in.readBoolean();
        if (type == SET) {
          String value = BinaryIO.readString(in);
          String prev = BinaryIO.readString(in);
          ops.add(new SetOp(key, value, prev, BinaryIO.readInstant(in), internal));
        } else if (type == DELETE) {
          ops.add(new DeleteOp(key, internal));
        } else {
          throw new IOException("unknown op type " + type);
        }
      }
      expectEnd(in);
      return ops;
    }
  }

  /** Encodes the outcomes of a batch, in order. */
  public static byte[] encodeOutcomes(List<Outcome> outcomes) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(96 * Math.max(1, outcomes.size()));
    DataOutputStream out = new DataOutputStream(bytes);
    try {
      out.writeByte(OUTCOMES_FORMAT);
      out.writeInt(outcomes.size());
      for (Outcome o : outcomes) {
        if (o instanceof Outcome.Applied applied) {
          out.writeByte(EVENT);
          BinaryIO.writeEvent(out, applied.event());
        } else {
          StoreException x = ((Outcome.Failed) o).error();
          out.writeByte(ERROR);
          out.writeShort(x.error().code());
          BinaryIO.writeString(out, x.cause());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** Decodes what {@link #encodeOutcomes} produced, in order. */
  public static List<Outcome> decodeOutcomes(byte[] bytes) {
    DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes));
    try {
      expectFormat(in, OUTCOMES_FORMAT);
      int count = count(in, bytes.length);
      List<Outcome> outcomes = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int type = in.readUnsignedByte();
        if (type == EVENT) {
          outcomes.add(new Outcome.Applied(BinaryIO.readEvent(in)));
        } else if (type == ERROR) {
          EtcdError error;
          try {
            error = EtcdError.ofCode(in.readUnsignedShort());
          } catch (IllegalArgumentException e) {
            throw new IOException(e.getMessage());
          }
          outcomes.add(new Outcome.Failed(new StoreException(error, BinaryIO.readString(in))));
        } else {
          throw new IOException("unknown outcome type " + type);
        }
      }
      expectEnd(in);
      return outcomes;
    } catch (IOException e) {
      throw new IllegalArgumentException("corrupt write outcomes: " + e.getMessage(), e);
    }
  }

  private static void expectFormat(DataInputStream in, int format) throws IOException {
    int b = in.readUnsignedByte();
    if (b != format) {
      throw new IOException("unknown format " + b);
    }
  }

  private static int count(DataInputStream in, int totalBytes) throws IOException {
    int count = in.readInt();
    if (count < 0 || count > totalBytes) { // every element takes at least one byte
      throw new IOException("bad count " + count);
    }
    return count;
  }

  private static void expectEnd(DataInputStream in) throws IOException {
    if (in.read() != -1) {
      throw new IOException("trailing bytes");
    }
  }
}
