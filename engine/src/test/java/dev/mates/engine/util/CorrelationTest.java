package dev.mates.engine.util;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CorrelationTest {
    /** Pairs from a bivariate normal with correlation r. */
    private static double[][] sample(SplittableRandom rnd, int n, double r) {
        double[] a = new double[n];
        double[] b = new double[n];
        for (int i = 0; i < n; i++) {
            double x = gaussian(rnd);
            double y = gaussian(rnd);
            a[i] = x;
            b[i] = r * x + Math.sqrt(1 - r * r) * y;
        }
        return new double[][] {a, b};
    }

    private static double gaussian(SplittableRandom rnd) {
        return Math.sqrt(-2 * Math.log(1 - rnd.nextDouble())) * Math.cos(2 * Math.PI * rnd.nextDouble());
    }

    /**
     * The population Spearman of a bivariate normal is (6/π)·asin(r/2); the 95% interval must cover it in about 95% of
     * samples (binomial sd over 1,000 repeats ≈ 0.7%, so [0.92, 0.98] fails a wrong formula, not bad luck).
     */
    @Test
    void spearmanIntervalCoversThePopulationValueNinetyFivePercentOfTheTime() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (double r : new double[] {0.3, 0.6}) {
            double truth = 6 / Math.PI * Math.asin(r / 2);
            int covered = 0;
            int repeats = 1000;
            for (int k = 0; k < repeats; k++) {
                double[][] s = sample(rnd, 200, r);
                double[] ci = Correlation.spearmanInterval(Correlation.spearman(s[0], s[1]), 200);
                assertTrue(ci[0] < ci[1]);
                if (ci[0] <= truth && truth <= ci[1]) covered++;
            }
            double coverage = covered / (double) repeats;
            assertTrue(coverage > 0.92 && coverage < 0.98, "coverage at r=" + r + ": " + coverage);
        }
    }

    @Test
    void intervalNeedsFourPairs() {
        assertTrue(Double.isNaN(Correlation.spearmanInterval(0.5, 3)[0]));
        assertTrue(Double.isNaN(Correlation.spearmanInterval(Double.NaN, 100)[1]));
    }
}
