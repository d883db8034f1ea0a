/*
 * mote from C: load a .mote model, fill its inputs, run it, print its outputs.
 *
 *   mote_example [-a] MODEL.mote [INPUT0.bin [INPUT1.bin ...]]
 *
 * Each INPUTk.bin holds the raw bytes of input k (its dtype, little-endian, row-major; exactly
 * the input's byte length); inputs without a file are zeros. Outputs are printed as numbers
 * (int8/uint8/int32 as integers, float32 with 9 significant digits, which round-trips): the
 * first 16 values and min/max/mean, or every value with -a.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mote.h"

static const char *dtype_name(mote_dtype d) {
    switch (d) {
    case MOTE_DTYPE_F32: return "float32";
    case MOTE_DTYPE_I8: return "int8";
    case MOTE_DTYPE_U8: return "uint8";
    case MOTE_DTYPE_I32: return "int32";
    }
    return "?";
}

static void print_info(const char *what, size_t index, const mote_tensor_info *t) {
    printf("%s %zu: '%.*s' %s [", what, index, (int)t->name_len, t->name, dtype_name(t->dtype));
    for (uint32_t d = 0; d < t->rank; d++) printf(d ? ", %u" : "%u", t->dims[d]);
    printf("]");
    if (t->quantized) printf(" scale %g zero_point %d", (double)t->scale, t->zero_point);
}

/* Element i of a tensor of dtype d as a double. */
static double value_at(const void *data, mote_dtype d, size_t i) {
    switch (d) {
    case MOTE_DTYPE_F32: { float v; memcpy(&v, (const char *)data + 4 * i, 4); return v; }
    case MOTE_DTYPE_I32: { int32_t v; memcpy(&v, (const char *)data + 4 * i, 4); return v; }
    case MOTE_DTYPE_I8: return ((const int8_t *)data)[i];
    case MOTE_DTYPE_U8: return ((const uint8_t *)data)[i];
    }
    return 0;
}

/* Reads a whole file into memory aligned to MOTE_ALIGNMENT, as mote_model_load requires. */
static void *read_aligned(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    void *buf = NULL;
    if (fseek(f, 0, SEEK_END) == 0) {
        long n = ftell(f);
        rewind(f);
        if (n >= 0 && posix_memalign(&buf, MOTE_ALIGNMENT, (size_t)n ? (size_t)n : 1) == 0) {
            if (fread(buf, 1, (size_t)n, f) == (size_t)n) {
                *len = (size_t)n;
            } else {
                free(buf);
                buf = NULL;
            }
        }
    }
    fclose(f);
    return buf;
}

static int fail_session(mote_session *s, const char *what, mote_status st) {
    char why[256];
    mote_session_last_error(s, why, sizeof why);
    fprintf(stderr, "error: %s: %s (%s)\n", what, mote_error_message(st), why);
    return 1;
}

int main(int argc, char **argv) {
    int all = 0, a = 1;
    if (a < argc && strcmp(argv[a], "-a") == 0) { all = 1; a++; }
    if (a >= argc) {
        fprintf(stderr, "usage: %s [-a] MODEL.mote [INPUT0.bin ...]\n", argv[0]);
        return 2;
    }
    const char *model_path = argv[a++];
    int n_files = argc - a;

    size_t len = 0;
    void *bytes = read_aligned(model_path, &len);
    if (!bytes) { fprintf(stderr, "error: cannot read %s\n", model_path); return 1; }

    /* The model reads the bytes in place: they stay alive until mote_model_free. */
    mote_model *model = NULL;
    char detail[256];
    mote_status st = mote_model_load_with_detail(bytes, len, &model, detail, sizeof detail);
    if (st != MOTE_OK) {
        fprintf(stderr, "error: %s: %s\n", model_path, detail);
        free(bytes);
        return 1;
    }
    size_t n_in = mote_model_input_count(model), n_out = mote_model_output_count(model);
    size_t arena_len = mote_model_arena_size(model);
    printf("mote %s: %s (%zu bytes), arena %zu bytes\n", mote_version(), model_path, len, arena_len);
    if ((size_t)n_files > n_in) {
        fprintf(stderr, "error: %d input files given, the model has %zu input(s)\n", n_files, n_in);
        return 2;
    }

    /* The session runs in an arena this program lends (mote_session_create_alloc would
     * allocate one instead). */
    void *arena = NULL;
    if (posix_memalign(&arena, MOTE_ALIGNMENT, arena_len ? arena_len : 1) != 0) {
        fprintf(stderr, "error: out of memory\n");
        return 1;
    }
    mote_session *session = NULL;
    st = mote_session_create(model, arena, arena_len, &session);
    if (st != MOTE_OK) {
        fprintf(stderr, "error: cannot create a session: %s\n", mote_error_message(st));
        return 1;
    }

    for (size_t i = 0; i < n_in; i++) {
        mote_tensor_info t;
        mote_model_input_info(model, i, &t);
        print_info("input", i, &t);
        if ((int)i < n_files) {
            size_t n = 0;
            void *data = read_aligned(argv[a + i], &n);
            if (!data) { fprintf(stderr, "\nerror: cannot read %s\n", argv[a + i]); return 1; }
            printf(" <- %s\n", argv[a + i]);
            st = mote_session_set_input(session, i, data, n);
            free(data);
            if (st != MOTE_OK) return fail_session(session, argv[a + i], st);
        } else {
            /* Zero-copy: write straight into the input's place in the arena. */
            void *dst = NULL;
            size_t n = 0;
            st = mote_session_input_ptr(session, i, &dst, &n);
            if (st != MOTE_OK) return fail_session(session, "input", st);
            memset(dst, 0, n); /* 0 is 0.0f, and 0 for int8 */
            printf(" <- zeros\n");
        }
    }

    st = mote_session_run(session);
    if (st != MOTE_OK) return fail_session(session, "run", st);

    for (size_t k = 0; k < n_out; k++) {
        mote_tensor_info t;
        const void *data = NULL;
        size_t n = 0;
        mote_model_output_info(model, k, &t);
        st = mote_session_output(session, k, &data, &n);
        if (st != MOTE_OK) return fail_session(session, "output", st);
        print_info("output", k, &t);
        double lo = 0, hi = 0, sum = 0;
        for (size_t i = 0; i < t.elements; i++) {
            double v = value_at(data, t.dtype, i);
            if (i == 0 || v < lo) lo = v;
            if (i == 0 || v > hi) hi = v;
            sum += v;
        }
        printf(": min %.9g, max %.9g, mean %.9g\n", lo, hi, t.elements ? sum / t.elements : 0.0);
        size_t shown = all || t.elements <= 16 ? t.elements : 16;
        for (size_t i = 0; i < shown; i++) {
            printf(i % 8 == 0 ? "  %.9g" : " %.9g", value_at(data, t.dtype, i));
            if (i % 8 == 7 || i + 1 == shown) printf("\n");
        }
        if (shown < t.elements) printf("  ... (%zu more; -a prints all)\n", t.elements - shown);
    }

    mote_session_free(session);
    free(arena);
    mote_model_free(model);
    free(bytes);
    return 0;
}
