// genes_annot: gene coordinates (gene bodies) from a GTF or BED annotation, used to turn ATAC
// peaks into gene activity scores.
#ifndef KIDA_GENES_ANNOT_H
#define KIDA_GENES_ANNOT_H
#include <stddef.h>
#include <stdint.h>

// Largest genome coordinate read (2^40, far beyond any chromosome): larger values are refused,
// so that start - 1, end + window and the like cannot overflow.
#define GENOME_COORD_MAX ((int64_t)1 << 40)

typedef struct {
    char *chrom;            // as written in the file ("chr1")
    int64_t start, end;     // 0-based half-open [start, end)
    char strand;            // '+', '-' or '.'
    char *name;             // gene symbol (GTF gene_name, else gene_id; BED column 4)
    char *type;             // GTF gene_type / gene_biotype; "" when unknown (BED)
} GeneCoord;

typedef struct {
    GeneCoord *genes;       // (n) in file order
    size_t n;
} GeneCoords;

// Reads gene coordinates; the format follows the name: .gtf / .gtf.gz (only "gene" feature
// lines; 1-based closed coordinates converted to 0-based half-open) or .bed / .bed.gz. BED
// columns: chrom, start, end, name, then either a strand (+/-/.) in column 5 (the KIDA/ArchR
// gene BEDs) or score in column 5 and strand in column 6 (standard BED6); further columns are
// ignored; "track"/"browser"/"#" lines are skipped. FATAL on an unknown extension, a file that
// cannot be read, a malformed line (file:line and the field), or a file with no genes.
GeneCoords gene_coords_read(const char *path);

// Frees every string and array of g and zeroes it.
void gene_coords_free(GeneCoords *g);
#endif
