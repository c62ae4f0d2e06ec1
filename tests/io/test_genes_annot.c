// test_genes_annot: gene coordinates from GTF (gene features, gene_name/gene_id, gene_type or
// gene_biotype, 1-based closed -> 0-based half-open) and from both BED layouts in the shared data
// (KIDA's chrom start end name strand, and BED6 chrom start end name score strand), plain and
// .gz; the shipped-style real files; FATAL on malformed lines. Exit 0 pass, 1 fail.
#include "io/genes_annot.h"
#include "tests/prep/prep_testutil.h"

static void read_path(void *p) {
    GeneCoords g = gene_coords_read(p);
    gene_coords_free(&g);
}

int main(void) {
    t_mkdir();
    const char *gtf =
        "#!genome-build GRCh38\n"
        "chr1\tHAVANA\tgene\t11869\t14409\t.\t+\t.\tgene_id \"ENSG00000223972.5\"; gene_type \"transcribed_unprocessed_pseudogene\"; gene_name \"DDX11L1\"; level 2;\n"
        "chr1\tHAVANA\ttranscript\t11869\t14409\t.\t+\t.\tgene_id \"ENSG00000223972.5\"; transcript_id \"T1\"; gene_name \"DDX11L1\";\n"
        "chr1\tHAVANA\texon\t11869\t12227\t.\t+\t.\tgene_id \"ENSG00000223972.5\"; gene_name \"DDX11L1\";\n"
        "chr1\tensembl\tgene\t65419\t71585\t.\t+\t.\tgene_id \"ENSG00000186092\"; gene_version \"7\"; gene_name \"OR4F5\"; gene_source \"ensembl_havana\"; gene_biotype \"protein_coding\";\n"
        "chrX\tensembl\tgene\t100\t100\t.\t-\t.\tgene_id \"ENSG0000000X\"; gene_biotype \"lncRNA\";\n";
    t_write("a.gtf", gtf);
    t_write_gz("a.gtf.gz", gtf);
    for (int z = 0; z < 2; z++) {
        GeneCoords g = gene_coords_read(t_path(z ? "a.gtf.gz" : "a.gtf"));
        CHECK(g.n == 3, "%s: %zu gene lines (want 3; transcript/exon skipped)", z ? "gtf.gz" : "gtf", g.n);
        if (g.n == 3) {
            CHECK(!strcmp(g.genes[0].name, "DDX11L1") && !strcmp(g.genes[0].chrom, "chr1") && g.genes[0].start == 11868 &&
                      g.genes[0].end == 14409 && g.genes[0].strand == '+' &&
                      !strcmp(g.genes[0].type, "transcribed_unprocessed_pseudogene"),
                  "GENCODE-style line: name, 0-based start 11868, end 14409, gene_type");
            CHECK(!strcmp(g.genes[1].name, "OR4F5") && !strcmp(g.genes[1].type, "protein_coding") &&
                      g.genes[1].start == 65418,
                  "Ensembl-style line: gene_biotype");
            CHECK(!strcmp(g.genes[2].name, "ENSG0000000X") && g.genes[2].strand == '-' && g.genes[2].start == 99 &&
                      g.genes[2].end == 100,
                  "no gene_name: gene_id used; one-base gene [99, 100)");
        }
        gene_coords_free(&g);
    }
    // KIDA layout: chrom start end name strand
    t_write("k.bed", "chr19\t58345182\t58353492\tA1BG\t-\nchr19\t58351969\t58355183\tA1BG-AS1\t+\n");
    // BED6: chrom start end name score strand; a track line; BED4 without strand
    t_write_gz("s.bed.gz", "track name=genes\nchr1\t11872\t14409\tDDX11L1\t100287102\t+\nchr1\t14360\t29370\tWASH7P\t653635\t-\n");
    t_write("b4.bed", "chr2\t5\t10\tGENE4\n");
    GeneCoords k = gene_coords_read(t_path("k.bed"));
    CHECK(k.n == 2 && k.genes[0].start == 58345182 && k.genes[0].end == 58353492 && k.genes[0].strand == '-' &&
              !strcmp(k.genes[1].name, "A1BG-AS1") && k.genes[1].strand == '+' && !strcmp(k.genes[0].type, ""),
          "KIDA BED: strand from column 5");
    gene_coords_free(&k);
    GeneCoords s = gene_coords_read(t_path("s.bed.gz"));
    CHECK(s.n == 2 && s.genes[0].strand == '+' && s.genes[1].strand == '-' && !strcmp(s.genes[1].name, "WASH7P") &&
              s.genes[1].start == 14360,
          "BED6 .gz: score in column 5 ignored, strand from column 6, track line skipped");
    gene_coords_free(&s);
    GeneCoords b4 = gene_coords_read(t_path("b4.bed"));
    CHECK(b4.n == 1 && b4.genes[0].strand == '.', "BED4: strand '.'");
    gene_coords_free(&b4);

    // the real annotation files in the shared data, when present (counts from `wc -l`)
    // (shared/ lies beside the repository in CI, at /work/shared on the development machines)
    const char *real[4] = {KIDA_SRCDIR "/../shared/data/gene_annotation/kida_gene_anno/hg38_genes.bed",
                           KIDA_SRCDIR "/../shared/data/gene_annotation/orgHsEgDb_hg38/hg38_genes_orgHsEgDb_3.16.bed",
                           "/work/shared/data/gene_annotation/kida_gene_anno/hg38_genes.bed",
                           "/work/shared/data/gene_annotation/orgHsEgDb_hg38/hg38_genes_orgHsEgDb_3.16.bed"};
    const size_t real_n[4] = {38824, 28257, 38824, 28257};
    int done[2] = {0, 0};
    for (int i = 0; i < 4; i++) {
        if (done[i % 2] || access(real[i], R_OK) != 0) continue;
        done[i % 2] = 1;
        GeneCoords r = gene_coords_read(real[i]);
        size_t plus = 0;
        for (size_t j = 0; j < r.n; j++) plus += r.genes[j].strand == '+';
        CHECK(r.n == real_n[i] && plus > r.n / 3 && plus < 2 * r.n / 3, "%s: %zu genes (want %zu), %zu on +", real[i], r.n,
              real_n[i], plus);
        gene_coords_free(&r);
    }

    // errors
    t_write("bad_start.bed", "chr1\t10\t20\tA\t+\nchr1\tx10\t20\tB\t+\n");
    t_expect_fatal("BED: non-integer start", read_path, (void *)t_path("bad_start.bed"),
                   (const char *const[]){"bad_start.bed' line 2", "field 2 (start)", "x10", NULL});
    t_write("bad_strand.bed", "chr1\t10\t20\tA\t1\t*\n");
    t_expect_fatal("BED6: bad strand", read_path, (void *)t_path("bad_strand.bed"),
                   (const char *const[]){"line 1", "field 6 (strand)", NULL});
    t_write("short.bed", "chr1\t10\t20\n");
    t_expect_fatal("BED: no name column", read_path, (void *)t_path("short.bed"),
                   (const char *const[]){"short.bed' line 1", "want >= 4", NULL});
    t_write("rev.bed", "chr1\t30\t20\tA\n");
    t_expect_fatal("BED: end before start", read_path, (void *)t_path("rev.bed"),
                   (const char *const[]){"bad interval", NULL});
    t_write("short.gtf", "chr1\tsrc\tgene\t1\t10\n");
    t_expect_fatal("GTF: 5 fields", read_path, (void *)t_path("short.gtf"),
                   (const char *const[]){"short.gtf' line 1", "want 9", NULL});
    t_write("noname.gtf", "chr1\tsrc\tgene\t1\t10\t.\t+\t.\tlevel 2;\n");
    t_expect_fatal("GTF: no gene_name/gene_id", read_path, (void *)t_path("noname.gtf"),
                   (const char *const[]){"field 9", "gene_id", NULL});
    t_write("nogenes.gtf", "chr1\tsrc\texon\t1\t10\t.\t+\t.\tgene_id \"A\";\n");
    t_expect_fatal("GTF without gene lines", read_path, (void *)t_path("nogenes.gtf"),
                   (const char *const[]){"no genes read", NULL});
    t_write("genes.txt", "x\n");
    t_expect_fatal("unknown extension", read_path, (void *)t_path("genes.txt"),
                   (const char *const[]){"unknown format", NULL});
    t_cleanup();
    printf("%s\n", t_fail ? "FAIL" : "PASS");
    return t_fail;
}
