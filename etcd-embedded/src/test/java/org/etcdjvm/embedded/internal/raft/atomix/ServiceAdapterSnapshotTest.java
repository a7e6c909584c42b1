package org.etcdjvm.embedded.internal.raft.atomix;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.atomix.primitive.service.impl.DefaultBackupInput;
import io.atomix.primitive.service.impl.DefaultBackupOutput;
import io.atomix.storage.buffer.HeapBuffer;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.zip.CRC32;
import org.etcdjvm.embedded.internal.raft.ReplicatedState;
import org.junit.jupiter.api.Test;

/**
 * Our part of a snapshot as {@link ServiceAdapter} writes it into Atomix's buffer and reads it back:
 * "ESN2", the state's bytes (streamed in 64 KiB pieces), their length and CRC32; snapshots in the
 * earlier format ("ESN1", length, CRC32, bytes) still restore; damage anywhere is refused.
 */
class ServiceAdapterSnapshotTest {

  /** A state that is just bytes, written in pieces of awkward sizes. */
  private static final class BytesState implements ReplicatedState {
    byte[] content;
    byte[] restored;

    BytesState(byte[] content) {
      this.content = content;
    }

    @Override
    public byte[] apply(byte[] command, Instant time) {
      return command;
    }

    @Override
    public void writeSnapshot(DataOutputStream out) throws IOException {
      out.writeInt(content.length);
      int i = 0;
      int piece = 1;
      while (i < content.length) { // single bytes, small runs, and runs longer than 64 KiB
        int n = Math.min(content.length - i, piece);
        if (n == 1) {
          out.write(content[i]);
        } else {
          out.write(content, i, n);
        }
        i += n;
        piece = piece >= 200_000 ? 1 : piece * 7 + 3;
      }
    }

    @Override
    public void readSnapshot(DataInputStream in) throws IOException {
      byte[] b = new byte[in.readInt()];
      in.readFully(b);
      if (in.read() != -1) {
        throw new IOException("bytes after the state");
      }
      restored = b;
    }
  }

  private final List<Throwable> failures = new ArrayList<>();

  private ServiceAdapter adapter(BytesState state) {
    return new ServiceAdapter(state, new ServiceAdapter.RestoreListener() {
      @Override
      public void restored() {
      }

      @Override
      public void failed(Throwable cause) {
        failures.add(cause);
      }

      @Override
      public void applied(long index) {
      }
    }, new LocalOutcomes());
  }

  private byte[] backup(byte[] content) {
    HeapBuffer buffer = HeapBuffer.allocate(64, Integer.MAX_VALUE);
    adapter(new BytesState(content)).backup(new DefaultBackupOutput(buffer, null));
    buffer.flip();
    return buffer.readBytes(buffer.remaining());
  }

  private byte[] restore(byte[] snapshot) {
    BytesState state = new BytesState(null);
    HeapBuffer buffer = HeapBuffer.allocate(Math.max(snapshot.length, 1), Integer.MAX_VALUE);
    buffer.write(snapshot).flip();
    adapter(state).restore(new DefaultBackupInput(buffer, null));
    return state.restored;
  }

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  @Test
  void theStateComesBackWhole() {
    for (int n : new int[] {0, 1, 65_531, 65_536, 1_000_003}) {
      byte[] content = random(n, n);
      byte[] snapshot = backup(content);
      assertThat(snapshot).startsWith(0x45, 0x53, 0x4E, 0x32); // "ESN2"
      assertThat(snapshot.length).isEqualTo(4 + 4 + n + 8);
      assertThat(restore(snapshot)).as("%d bytes", n).isEqualTo(content);
    }
    assertThat(failures).isEmpty();
  }

  @Test
  void aSnapshotInTheEarlierFormatStillRestores() throws IOException {
    byte[] content = random(100_000, 7);
    java.io.ByteArrayOutputStream state = new java.io.ByteArrayOutputStream();
    new BytesState(content).writeSnapshot(new DataOutputStream(state));
    byte[] bytes = state.toByteArray();
    CRC32 crc = new CRC32();
    crc.update(bytes);
    java.nio.ByteBuffer old = java.nio.ByteBuffer.allocate(12 + bytes.length);
    old.putInt(ServiceAdapter.SNAPSHOT_MAGIC).putInt(bytes.length).putInt((int) crc.getValue()).put(bytes);
    assertThat(restore(old.array())).isEqualTo(content);
  }

  @Test
  void damageAnywhereIsRefused() {
    byte[] snapshot = backup(random(200_000, 9));
    Random random = new Random(20261201);
    for (int round = 0; round < 40; round++) {
      byte[] damaged = snapshot.clone();
      int at = 4 + random.nextInt(damaged.length - 4);
      damaged[at] ^= (byte) (1 + random.nextInt(255));
      assertThatThrownBy(() -> restore(damaged)).as("flipped at %d", at).isInstanceOf(UncheckedIOException.class);
    }
    for (int cut : new int[] {4, 8, 11, 12, 5000, snapshot.length - 8, snapshot.length - 1}) {
      byte[] shorter = Arrays.copyOf(snapshot, cut);
      assertThatThrownBy(() -> restore(shorter)).as("cut to %d", cut).isInstanceOf(UncheckedIOException.class);
    }
    assertThat(failures).hasSize(47);
  }
}
