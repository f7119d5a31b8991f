package dev.mates.engine.influence;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import java.util.EnumSet;
import org.junit.jupiter.api.Test;

/** The encoder's device setting (MATES_ENCODER_DEVICE), used by the GPU scorer image. */
class MiniLmEncoderDeviceTest {
    private static final EnumSet<OrtProvider> CPU_ONLY = EnumSet.of(OrtProvider.CPU);
    private static final EnumSet<OrtProvider> WITH_CUDA = EnumSet.of(OrtProvider.CPU, OrtProvider.CUDA);

    @Test
    void autoPicksCudaOnlyWhenTheRuntimeHasIt() {
        assertEquals(-1, MiniLmEncoder.cudaDevice("auto", CPU_ONLY));
        assertEquals(0, MiniLmEncoder.cudaDevice("auto", WITH_CUDA));
        assertEquals(-1, MiniLmEncoder.cudaDevice("CPU", WITH_CUDA));
        assertEquals(0, MiniLmEncoder.cudaDevice("cuda", WITH_CUDA));
        assertEquals(3, MiniLmEncoder.cudaDevice(" cuda:3 ", WITH_CUDA));
    }

    @Test
    void cudaWithoutTheGpuRuntimeFailsAndSaysWhatToDo() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> MiniLmEncoder.cudaDevice("cuda", CPU_ONLY));
        assertTrue(e.getMessage().contains("MATES_ENCODER_DEVICE") && e.getMessage().contains("onnxruntime_gpu"), e.getMessage());
    }

    @Test
    void badValuesNameTheSetting() {
        for (String bad : new String[] {"tpu", "cuda:", "cuda:x", "cuda:-1"}) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> MiniLmEncoder.cudaDevice(bad, WITH_CUDA), bad);
            assertTrue(e.getMessage().contains("MATES_ENCODER_DEVICE") && e.getMessage().contains("cuda:N"), e.getMessage());
        }
    }

    @Test
    void theCpuRuntimeOnTheClasspathHasNoCudaAndLoadRefusesCuda() {
        // The build ships the CPU onnxruntime jar; the GPU image swaps in onnxruntime_gpu (services/scorer -Pgpu).
        assertTrue(!OrtEnvironment.getEnvironment().getAvailableProviders().contains(OrtProvider.CUDA));
        String before = System.getProperty("mates.encoder.device");
        System.setProperty("mates.encoder.device", "cuda");
        try {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> MiniLmEncoder.load(true, 128));
            assertTrue(e.getMessage().contains("no CUDA provider"), e.getMessage());
        } finally {
            if (before == null) System.clearProperty("mates.encoder.device");
            else System.setProperty("mates.encoder.device", before);
        }
        try (MiniLmEncoder enc = MiniLmEncoder.load(true, 128)) {
            assertEquals(MiniLmEncoder.DIM, enc.embed(java.util.List.of("a sentence"))[0].length);
        }
    }
}
