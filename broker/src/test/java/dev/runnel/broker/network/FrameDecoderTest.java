package dev.runnel.broker.network;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.TooLongFrameException;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The frame decoder cuts any chunking of the byte stream into the same frames, refuses negative and oversized
 * sizes before buffering them, and holds no more memory for a partly received frame than the bytes that came
 * (at most twice) and never more than the frame's declared size — however slowly the frame trickles in.
 */
class FrameDecoderTest {
    private static final int MAX = 1 << 20;

    @Test
    void anyChunkingGivesTheSameFrames() {
        Random random = new Random(42);
        for (int round = 0; round < 200; round++) {
            List<byte[]> frames = new ArrayList<>();
            ByteArrayOutputStream stream = new ByteArrayOutputStream();
            int n = 1 + random.nextInt(20);
            for (int i = 0; i < n; i++) {
                byte[] body = new byte[random.nextInt(5) == 0 ? random.nextInt(70_000) : random.nextInt(300)];
                random.nextBytes(body);
                frames.add(body);
                stream.writeBytes(ByteBuffer.allocate(4).putInt(body.length).array());
                stream.writeBytes(body);
            }
            byte[] all = stream.toByteArray();
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(MAX));
            int pos = 0;
            while (pos < all.length) {
                int len = Math.min(all.length - pos, 1 + random.nextInt(random.nextBoolean() ? 8 : 9000));
                ch.writeInbound(Unpooled.copiedBuffer(all, pos, len));
                pos += len;
            }
            for (byte[] expected : frames) {
                ByteBuf got = ch.readInbound();
                byte[] bytes = new byte[got.readableBytes()];
                got.readBytes(bytes);
                got.release();
                assertArrayEquals(expected, bytes);
            }
            assertNull(ch.readInbound());
            assertFalse(ch.finish());
        }
    }

    @Test
    void negativeAndOversizedSizesAreRefusedBeforeBuffering() {
        for (int size : new int[] {-1, Integer.MIN_VALUE, MAX + 1, Integer.MAX_VALUE}) {
            EmbeddedChannel ch = new EmbeddedChannel(new FrameDecoder(MAX));
            assertThrows(TooLongFrameException.class, () -> ch.writeInbound(Unpooled.buffer().writeInt(size).writeByte(1)));
            ch.finishAndReleaseAll();
        }
    }

    @Test
    void aTricklingFrameHoldsWhatArrivedAndNeverMoreThanItsDeclaredSize() {
        int declared = 200_000;
        FrameDecoder decoder = new FrameDecoder(MAX);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ch.writeInbound(Unpooled.buffer(4).writeInt(declared));
        int received = 0;
        int maxHeld = 0;
        Random random = new Random(7);
        while (received < declared) {
            int len = Math.min(declared - received, 1 + random.nextInt(3000));
            // each read arrives in a generously sized buffer, as a socket read would
            ByteBuf in = Unpooled.buffer(Math.max(len, 2048));
            in.writeZero(len);
            ch.writeInbound(in);
            received += len;
            if (received < declared) {
                int held = decoder.bufferedCapacity();
                maxHeld = Math.max(maxHeld, held);
                assertTrue(held <= Math.max(1024, 2 * (4 + received)), "holds " + held + " bytes for " + received + " received");
                assertTrue(held <= 4 + declared, "holds " + held + " bytes, more than the declared frame");
            }
        }
        ByteBuf frame = ch.readInbound();
        assertEquals(declared, frame.readableBytes());
        frame.release();
        assertEquals(0, decoder.bufferedCapacity(), "nothing held once the frame is out");
        assertTrue(maxHeld > declared / 2, "the check saw the buffer grow: " + maxHeld);
        assertFalse(ch.finish());
    }

    @Test
    void aLargeReadBufferHoldingAFewBytesIsNotKept() {
        FrameDecoder decoder = new FrameDecoder(MAX);
        EmbeddedChannel ch = new EmbeddedChannel(decoder);
        ByteBuf in = Unpooled.buffer(65536).writeInt(1000).writeZero(10);
        ch.writeInbound(in);
        assertTrue(decoder.bufferedCapacity() <= 1024, "holds " + decoder.bufferedCapacity() + " bytes for 14 received");
        ch.finishAndReleaseAll();
    }
}
