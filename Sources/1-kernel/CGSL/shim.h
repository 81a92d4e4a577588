#ifndef INFERMESH_CGSL_SHIM_H
#define INFERMESH_CGSL_SHIM_H

#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_cdf.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_statistics_double.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_multimin.h>
#include <gsl/gsl_linalg.h>

/* Swift 6 rejects GSL's generator-type globals as not concurrency-safe; these return them. */
static inline const gsl_rng_type *infermesh_rng_mt19937(void) { return gsl_rng_mt19937; }
static inline const gsl_multimin_fminimizer_type *infermesh_nmsimplex2(void) { return gsl_multimin_fminimizer_nmsimplex2; }

/* GSL's default error handler aborts the process. Parameters are validated before any call,
   so a GSL error is a bug; we still turn the abort off so one surfaces as a NaN, not a crash. */
static inline void infermesh_gsl_disable_abort(void) { gsl_set_error_handler_off(); }

#endif
