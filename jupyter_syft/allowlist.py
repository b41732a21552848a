'''The reviewed list of torch operations a worker runs, by their names on the wire.

A worker resolves a command's operation only through ``commands.resolve``, which knows a name
when torch routes it through ``__torch_function__`` (or commands.py lists it by hand, like the
factories) and it is on ``ALLOWED`` below. Every name torch routes is on ``ALLOWED`` or on
``DENIED``; tests/test_allowlist.py fails when a torch upgrade routes a name that is on neither,
so each new operation is reviewed before any worker runs it. To review one: read what it does
with its arguments (sizes it allocates, loops it runs, memory it reads or hands out, callables it
calls), then add it to a group here with the size rule that bounds its result, or to a deny group.

Every allowed name has a size rule: how commands.py knows, before the operation allocates, that
its result stays within the worker's caps (BaseWorker.MAX_TENSOR_NUMEL, MAX_RESULT_TENSORS):

- ``BROADCAST``: an elementwise operation (or one with broadcast batch dimensions, like matmul):
  its result, and its work, are at most the broadcast of its tensor arguments' shapes, taking the
  larger size where two differ. Checked before running, in a few instructions when the shapes
  are equal.
- ``BOUNDED``: the result is a view made in constant time, or at most a small multiple of the
  tensors it was given (a reduction, a sort, a reshape, an in-place update). Checked after.
- ``FORMULA``: the result size follows from the arguments by a rule of its own in commands.py
  (``_FORMULAS``), computed before running: convolutions, pooling, concatenation, indexing,
  embeddings, counts of results (split, unbind), values that set sizes (bincount, one_hot).
- ``META``: the operation runs first on "meta" tensors (shapes without data, nothing allocated)
  to learn the result's shape: sizes given as arguments (factories, adaptive pooling, transposed
  convolutions) and outer products (kron, cdist). Slower (5 to 500 µs more per call), for
  operations that are rare in training loops; common sized ones (repeat, pad) have formulas.

Every result is also checked after running (its element count, and how many tensors it holds).
``RANDOM`` names the operations that draw from torch's random generator: a worker with
``own_rng=True`` runs them on its own generator state.

Names are ``Tensor.<method>``, ``Tensor.<property>.__get__``/``__set__``, and ``<module>.<name>``
with the name torch gives the function (``torch.linalg.linalg_solve``, ``torch.special.special_erf``).
'''
BROADCAST, BOUNDED, FORMULA, META = "broadcast", "bounded", "formula", "meta"


def _names(text: str) -> tuple:
    return tuple(text.split())


# --- allowed -------------------------------------------------------------------------------------

# Elementwise maths of one tensor: one output element per input element, constant work per
# element (the special functions' series stop after a fixed number of terms). In-place forms
# write into their own argument.
UNARY = _names("""
    Tensor.abs Tensor.abs_ Tensor.absolute Tensor.absolute_ Tensor.acos Tensor.acos_
    Tensor.acosh Tensor.acosh_ Tensor.angle Tensor.arccos Tensor.arccos_ Tensor.arccosh
    Tensor.arccosh_ Tensor.arcsin Tensor.arcsin_ Tensor.arcsinh Tensor.arcsinh_ Tensor.arctan
    Tensor.arctan_ Tensor.arctanh Tensor.arctanh_ Tensor.asin Tensor.asin_ Tensor.asinh
    Tensor.asinh_ Tensor.atan Tensor.atan_ Tensor.atanh Tensor.atanh_ Tensor.bitwise_not
    Tensor.bitwise_not_ Tensor.ceil Tensor.ceil_ Tensor.clamp Tensor.clamp_ Tensor.clamp_max
    Tensor.clamp_max_ Tensor.clamp_min Tensor.clamp_min_ Tensor.clip Tensor.clip_
    Tensor.conj_physical Tensor.conj_physical_ Tensor.cos Tensor.cos_ Tensor.cosh Tensor.cosh_
    Tensor.deg2rad Tensor.deg2rad_ Tensor.digamma Tensor.digamma_ Tensor.erf Tensor.erf_
    Tensor.erfc Tensor.erfc_ Tensor.erfinv Tensor.erfinv_ Tensor.exp Tensor.exp2 Tensor.exp2_
    Tensor.exp_ Tensor.expm1 Tensor.expm1_ Tensor.fix Tensor.fix_ Tensor.floor Tensor.floor_
    Tensor.frac Tensor.frac_ Tensor.frexp Tensor.i0 Tensor.i0_ Tensor.isfinite Tensor.isinf
    Tensor.isnan Tensor.isneginf Tensor.isposinf Tensor.isreal Tensor.lgamma Tensor.lgamma_
    Tensor.log Tensor.log10 Tensor.log10_ Tensor.log1p Tensor.log1p_ Tensor.log2 Tensor.log2_
    Tensor.log_ Tensor.logical_not Tensor.logical_not_ Tensor.logit Tensor.logit_
    Tensor.nan_to_num Tensor.nan_to_num_ Tensor.neg Tensor.neg_ Tensor.negative Tensor.negative_
    Tensor.polygamma Tensor.polygamma_ Tensor.positive Tensor.rad2deg Tensor.rad2deg_
    Tensor.reciprocal Tensor.reciprocal_ Tensor.relu Tensor.relu_ Tensor.round Tensor.round_
    Tensor.rsqrt Tensor.rsqrt_ Tensor.sgn Tensor.sgn_ Tensor.sigmoid Tensor.sigmoid_ Tensor.sign
    Tensor.sign_ Tensor.signbit Tensor.sin Tensor.sin_ Tensor.sinc Tensor.sinc_ Tensor.sinh
    Tensor.sinh_ Tensor.sqrt Tensor.sqrt_ Tensor.square Tensor.square_ Tensor.tan Tensor.tan_
    Tensor.tanh Tensor.tanh_ Tensor.trunc Tensor.trunc_ torch.abs torch.absolute torch.acos
    torch.acosh torch.angle torch.arccos torch.arccosh torch.arcsin torch.arcsinh torch.arctan
    torch.arctanh torch.asin torch.asinh torch.atan torch.atanh torch.bitwise_not torch.ceil
    torch.clamp torch.clamp_max torch.clamp_min torch.clip torch.conj_physical torch.cos
    torch.cosh torch.deg2rad torch.digamma torch.erf torch.erfc torch.erfinv torch.exp
    torch.exp2 torch.expm1 torch.fix torch.floor torch.frac torch.frexp torch.i0 torch.isfinite
    torch.isinf torch.isnan torch.isneginf torch.isposinf torch.isreal torch.lgamma torch.log
    torch.log10 torch.log1p torch.log2 torch.logical_not torch.logit torch.nan_to_num torch.neg
    torch.negative torch.polygamma torch.positive torch.rad2deg torch.reciprocal torch.relu
    torch.round torch.rsqrt torch.sgn torch.sigmoid torch.sign torch.signbit torch.sin
    torch.sinc torch.sinh torch.special.special_airy_ai torch.special.special_bessel_j0
    torch.special.special_bessel_j1 torch.special.special_bessel_y0
    torch.special.special_bessel_y1 torch.special.special_digamma torch.special.special_entr
    torch.special.special_erf torch.special.special_erfc torch.special.special_erfcx
    torch.special.special_erfinv torch.special.special_exp2 torch.special.special_expit
    torch.special.special_expm1 torch.special.special_gammaln torch.special.special_i0
    torch.special.special_i0e torch.special.special_i1 torch.special.special_i1e
    torch.special.special_log1p torch.special.special_log_ndtr torch.special.special_logit
    torch.special.special_modified_bessel_i0 torch.special.special_modified_bessel_i1
    torch.special.special_modified_bessel_k0 torch.special.special_modified_bessel_k1
    torch.special.special_ndtr torch.special.special_ndtri torch.special.special_polygamma
    torch.special.special_psi torch.special.special_round
    torch.special.special_scaled_modified_bessel_k0
    torch.special.special_scaled_modified_bessel_k1 torch.special.special_sinc
    torch.special.special_spherical_bessel_j0 torch.sqrt torch.square torch.tan torch.tanh
    torch.trunc
""")

# Elementwise arithmetic, comparison and logic of two or three tensors (and the operators that
# spell them): the result has the broadcast shape of the arguments.
BINARY = _names("""
    Tensor.__add__ Tensor.__and__ Tensor.__div__ Tensor.__eq__ Tensor.__floordiv__ Tensor.__ge__
    Tensor.__gt__ Tensor.__iadd__ Tensor.__iand__ Tensor.__idiv__ Tensor.__ifloordiv__
    Tensor.__ilshift__ Tensor.__imod__ Tensor.__imul__ Tensor.__invert__ Tensor.__ior__
    Tensor.__irshift__ Tensor.__isub__ Tensor.__ixor__ Tensor.__le__ Tensor.__lshift__
    Tensor.__lt__ Tensor.__mod__ Tensor.__mul__ Tensor.__ne__ Tensor.__or__ Tensor.__radd__
    Tensor.__rand__ Tensor.__rdiv__ Tensor.__rfloordiv__ Tensor.__rlshift__ Tensor.__rmod__
    Tensor.__rmul__ Tensor.__ror__ Tensor.__rpow__ Tensor.__rrshift__ Tensor.__rshift__
    Tensor.__rsub__ Tensor.__rxor__ Tensor.__sub__ Tensor.__truediv__ Tensor.__xor__ Tensor.add
    Tensor.add_ Tensor.addcdiv Tensor.addcdiv_ Tensor.addcmul Tensor.addcmul_ Tensor.arctan2
    Tensor.arctan2_ Tensor.atan2 Tensor.atan2_ Tensor.bitwise_and Tensor.bitwise_and_
    Tensor.bitwise_left_shift Tensor.bitwise_left_shift_ Tensor.bitwise_or Tensor.bitwise_or_
    Tensor.bitwise_right_shift Tensor.bitwise_right_shift_ Tensor.bitwise_xor
    Tensor.bitwise_xor_ Tensor.copysign Tensor.copysign_ Tensor.div Tensor.div_ Tensor.divide
    Tensor.divide_ Tensor.eq Tensor.eq_ Tensor.float_power Tensor.float_power_
    Tensor.floor_divide Tensor.floor_divide_ Tensor.fmax Tensor.fmin Tensor.fmod Tensor.fmod_
    Tensor.gcd Tensor.gcd_ Tensor.ge Tensor.ge_ Tensor.greater Tensor.greater_
    Tensor.greater_equal Tensor.greater_equal_ Tensor.gt Tensor.gt_ Tensor.heaviside
    Tensor.heaviside_ Tensor.hypot Tensor.hypot_ Tensor.igamma Tensor.igamma_ Tensor.igammac
    Tensor.igammac_ Tensor.isclose Tensor.lcm Tensor.lcm_ Tensor.ldexp Tensor.ldexp_ Tensor.le
    Tensor.le_ Tensor.lerp Tensor.lerp_ Tensor.less Tensor.less_ Tensor.less_equal
    Tensor.less_equal_ Tensor.logaddexp Tensor.logaddexp2 Tensor.logical_and Tensor.logical_and_
    Tensor.logical_or Tensor.logical_or_ Tensor.logical_xor Tensor.logical_xor_ Tensor.lt
    Tensor.lt_ Tensor.masked_fill Tensor.masked_fill_ Tensor.masked_select Tensor.maximum
    Tensor.minimum Tensor.mul Tensor.mul_ Tensor.multiply Tensor.multiply_ Tensor.ne Tensor.ne_
    Tensor.nextafter Tensor.nextafter_ Tensor.not_equal Tensor.not_equal_ Tensor.pow Tensor.pow_
    Tensor.remainder Tensor.remainder_ Tensor.sub Tensor.sub_ Tensor.subtract Tensor.subtract_
    Tensor.take_along_dim Tensor.true_divide Tensor.true_divide_ Tensor.xlogy Tensor.xlogy_
    torch.add torch.addcdiv torch.addcmul torch.arctan2 torch.atan2 torch.bitwise_and
    torch.bitwise_left_shift torch.bitwise_or torch.bitwise_right_shift torch.bitwise_xor
    torch.complex torch.copysign torch.div torch.divide torch.eq torch.float_power
    torch.floor_divide torch.fmax torch.fmin torch.fmod torch.gcd torch.ge torch.greater
    torch.greater_equal torch.gt torch.heaviside torch.hypot torch.igamma torch.igammac
    torch.isclose torch.lcm torch.ldexp torch.le torch.lerp torch.less torch.less_equal
    torch.logaddexp torch.logaddexp2 torch.logical_and torch.logical_or torch.logical_xor
    torch.lt torch.masked_fill torch.masked_select torch.maximum torch.minimum torch.mul
    torch.multiply torch.ne torch.nextafter torch.not_equal torch.polar torch.pow
    torch.remainder torch.rsub torch.special.special_gammainc torch.special.special_gammaincc
    torch.special.special_xlog1py torch.special.special_xlogy torch.special.special_zeta
    torch.sub torch.subtract torch.take_along_dim torch.true_divide torch.xlogy
""")

# Matrix products and solvers: batch dimensions broadcast; an (n, m) by (m, p) product is at most
# max(n, m) by max(m, p), which the broadcast rule bounds.
MATMUL = _names("""
    Tensor.__matmul__ Tensor.__rmatmul__ Tensor.addbmm Tensor.addbmm_ Tensor.addmm Tensor.addmm_
    Tensor.addmv Tensor.addmv_ Tensor.baddbmm Tensor.baddbmm_ Tensor.bmm Tensor.cholesky_solve
    Tensor.cross Tensor.matmul Tensor.mm torch.addbmm torch.addmm torch.addmv torch.baddbmm
    torch.bmm torch.cholesky_solve torch.cross torch.linalg.linalg_cross
    torch.linalg.linalg_matmul torch.linalg.linalg_solve torch.linalg.linalg_solve_ex
    torch.linalg.linalg_solve_triangular torch.linalg.linalg_vecdot torch.matmul torch.mm
""")

# nn.functional activations and elementwise losses: the result and the work are the broadcast
# of the inputs (a loss reduces it further).
NN_ELEMENTWISE = _names("""
    Tensor.hardshrink torch.cosine_similarity torch.hardshrink
    torch.nn.functional.binary_cross_entropy
    torch.nn.functional.binary_cross_entropy_with_logits torch.nn.functional.celu
    torch.nn.functional.cosine_similarity torch.nn.functional.elu torch.nn.functional.gelu
    torch.nn.functional.glu torch.nn.functional.hardshrink torch.nn.functional.hardtanh
    torch.nn.functional.hinge_embedding_loss torch.nn.functional.huber_loss
    torch.nn.functional.kl_div torch.nn.functional.l1_loss torch.nn.functional.leaky_relu
    torch.nn.functional.log_sigmoid torch.nn.functional.margin_ranking_loss
    torch.nn.functional.mish torch.nn.functional.mse_loss
    torch.nn.functional.multilabel_soft_margin_loss torch.nn.functional.pairwise_distance
    torch.nn.functional.poisson_nll_loss torch.nn.functional.relu torch.nn.functional.relu6
    torch.nn.functional.selu torch.nn.functional.silu torch.nn.functional.smooth_l1_loss
    torch.nn.functional.soft_margin_loss torch.nn.functional.softplus
    torch.nn.functional.softshrink torch.nn.functional.softsign torch.nn.functional.tanhshrink
    torch.nn.functional.triplet_margin_loss
    torch.nn.functional.triplet_margin_with_distance_loss torch.pairwise_distance
    torch.threshold
""")

# Reductions, scans, sorts and norms: the result is at most the input; k-th value and top-k
# check k against the dimension.
REDUCTIONS = _names("""
    Tensor.all Tensor.allclose Tensor.amax Tensor.amin Tensor.aminmax Tensor.any Tensor.argmax
    Tensor.argmin Tensor.argsort Tensor.count_nonzero Tensor.cummax Tensor.cummin Tensor.cumprod
    Tensor.cumprod_ Tensor.cumsum Tensor.cumsum_ Tensor.det Tensor.diff Tensor.dist Tensor.equal
    Tensor.kthvalue Tensor.log_softmax Tensor.logcumsumexp Tensor.logdet Tensor.logsumexp
    Tensor.max Tensor.mean Tensor.median Tensor.min Tensor.mode Tensor.msort Tensor.nanmean
    Tensor.nanmedian Tensor.nansum Tensor.norm Tensor.prod Tensor.renorm Tensor.renorm_
    Tensor.slogdet Tensor.softmax Tensor.sort Tensor.std Tensor.sum Tensor.topk Tensor.trace
    Tensor.unique Tensor.unique_consecutive Tensor.var torch.all torch.allclose torch.amax
    torch.amin torch.aminmax torch.any torch.argmax torch.argmin torch.argsort torch.bucketize
    torch.count_nonzero torch.cummax torch.cummin torch.cumprod torch.cumsum torch.det
    torch.diff torch.dist torch.equal torch.functional.norm torch.functional.unique
    torch.functional.unique_consecutive torch.isin torch.kthvalue torch.linalg.linalg_det
    torch.linalg.linalg_matrix_norm torch.linalg.linalg_norm torch.linalg.linalg_slogdet
    torch.linalg.linalg_vector_norm torch.log_softmax torch.logcumsumexp torch.logdet
    torch.logsumexp torch.max torch.mean torch.median torch.min torch.mode torch.msort
    torch.nanmean torch.nanmedian torch.nansum torch.nn.functional.log_softmax
    torch.nn.functional.softmax torch.nn.functional.softmin torch.norm torch.prod torch.renorm
    torch.searchsorted torch.slogdet torch.softmax torch.sort torch.special.special_log_softmax
    torch.special.special_logsumexp torch.special.special_softmax torch.std torch.std_mean
    torch.sum torch.topk torch.trace torch.unique_consecutive torch.var torch.var_mean
""")

# Views and reshapes (constant time; a view bigger than the cap, like expand, is refused after it
# is made and before anything reads it) and copies of the same size. as_strided and indexing
# with index lists have rules of their own (SIZED).
SHAPES = _names("""
    Tensor.H.__get__ Tensor.T.__get__ Tensor.__reversed__ Tensor.adjoint Tensor.broadcast_to
    Tensor.clone Tensor.conj Tensor.contiguous Tensor.detach Tensor.detach_ Tensor.diagonal
    Tensor.expand Tensor.expand_as Tensor.flatten Tensor.flip Tensor.fliplr Tensor.flipud
    Tensor.imag.__get__ Tensor.mH.__get__ Tensor.mT.__get__ Tensor.moveaxis Tensor.movedim
    Tensor.narrow Tensor.permute Tensor.ravel Tensor.real.__get__ Tensor.reshape
    Tensor.reshape_as Tensor.resolve_conj Tensor.resolve_neg Tensor.roll Tensor.rot90
    Tensor.select Tensor.squeeze Tensor.sum_to_size Tensor.swapaxes Tensor.swapdims Tensor.t
    Tensor.transpose Tensor.tril Tensor.tril_ Tensor.triu Tensor.triu_ Tensor.unflatten
    Tensor.unfold Tensor.unsqueeze Tensor.view Tensor.view_as torch.adjoint torch.atleast_1d
    torch.atleast_2d torch.atleast_3d torch.broadcast_tensors torch.broadcast_to torch.clone
    torch.conj torch.detach torch.diagonal torch.flatten torch.flip torch.fliplr torch.flipud
    torch.functional.atleast_1d torch.functional.atleast_2d torch.functional.atleast_3d
    torch.functional.broadcast_tensors torch.functional.meshgrid torch.imag
    torch.linalg.linalg_diagonal torch.meshgrid torch.moveaxis torch.movedim torch.narrow
    torch.nn.functional.pixel_shuffle torch.nn.functional.pixel_unshuffle torch.permute
    torch.pixel_shuffle torch.pixel_unshuffle torch.ravel torch.real torch.reshape
    torch.resolve_conj torch.resolve_neg torch.roll torch.rot90 torch.select torch.squeeze
    torch.swapaxes torch.swapdims torch.t torch.transpose torch.tril torch.triu torch.unflatten
    torch.unsqueeze torch.view_as_complex torch.view_as_real
""")

# Operations that return one tensor per part: the number of parts is checked before running
# (a split into 2**40 parts would make 2**40 Python objects).
PARTS = _names("""
    Tensor.chunk Tensor.dsplit Tensor.hsplit Tensor.split Tensor.split_with_sizes
    Tensor.tensor_split Tensor.unbind Tensor.vsplit torch.chunk torch.dsplit
    torch.functional.split torch.hsplit torch.split torch.split_with_sizes torch.tensor_split
    torch.unbind torch.vsplit
""")

# dtype conversions and same-shaped copies; torch.tensor and new_tensor build what the message
# carried, which its size already bounds.
CONVERSIONS = _names("""
    Tensor.bfloat16 Tensor.bool Tensor.byte Tensor.cdouble Tensor.cfloat Tensor.chalf
    Tensor.char Tensor.cpu Tensor.double Tensor.float Tensor.half Tensor.int Tensor.long
    Tensor.new_tensor Tensor.short Tensor.to Tensor.type Tensor.type_as torch.full_like
    torch.ones_like torch.tensor torch.zeros_like
""")

# Indexed reads and writes whose result has the shape of the target or of the index tensor, and
# in-place writes into their target; out-of-range indices are refused by torch (the security
# review tried each).
INDEXING = _names("""
    Tensor.copy_ Tensor.fill_ Tensor.fill_diagonal_ Tensor.gather Tensor.index_add
    Tensor.index_add_ Tensor.index_copy Tensor.index_copy_ Tensor.index_fill Tensor.index_fill_
    Tensor.index_reduce Tensor.index_reduce_ Tensor.masked_scatter_ Tensor.put Tensor.put_
    Tensor.scatter Tensor.scatter_ Tensor.scatter_add Tensor.scatter_add_ Tensor.scatter_reduce
    Tensor.scatter_reduce_ Tensor.take Tensor.zero_ torch.gather torch.index_add
    torch.index_copy torch.index_fill torch.index_reduce torch.put torch.scatter
    torch.scatter_add torch.scatter_reduce torch.take
""")

# Linear algebra on square or rectangular matrices whose results are no larger than the input
# (full SVD, complete QR and LU are under META: their factors can be larger).
LINALG = _names("""
    Tensor.cholesky Tensor.cholesky_inverse Tensor.dot Tensor.inverse Tensor.lu
    Tensor.matrix_exp Tensor.matrix_power Tensor.mv Tensor.pinverse Tensor.vdot torch.cholesky
    torch.cholesky_inverse torch.dot torch.functional.lu torch.inverse
    torch.linalg.linalg_cholesky torch.linalg.linalg_cholesky_ex torch.linalg.linalg_cond
    torch.linalg.linalg_eig torch.linalg.linalg_eigh torch.linalg.linalg_eigvals
    torch.linalg.linalg_eigvalsh torch.linalg.linalg_inv torch.linalg.linalg_inv_ex
    torch.linalg.linalg_lu_factor torch.linalg.linalg_lu_factor_ex
    torch.linalg.linalg_matrix_exp torch.linalg.linalg_matrix_power
    torch.linalg.linalg_matrix_rank torch.linalg.linalg_pinv torch.linalg.linalg_svdvals
    torch.linalg.linalg_tensorinv torch.linalg.linalg_tensorsolve torch.matrix_exp
    torch.matrix_power torch.mv torch.pinverse torch.vdot
""")

# Random numbers in place or shaped like the input (multinomial and the random factories are
# under META); dropout layers.
RANDOM_OPS = _names("""
    Tensor.bernoulli Tensor.bernoulli_ Tensor.cauchy_ Tensor.exponential_ Tensor.geometric_
    Tensor.log_normal_ Tensor.normal_ Tensor.random_ Tensor.uniform_ torch.bernoulli
    torch.nn.functional.alpha_dropout torch.nn.functional.dropout torch.nn.functional.dropout1d
    torch.nn.functional.dropout2d torch.nn.functional.dropout3d
    torch.nn.functional.feature_alpha_dropout torch.nn.functional.gumbel_softmax
    torch.nn.functional.rrelu torch.poisson
""")

# nn.functional layers whose result has the input's shape; torch checks that weights, running
# statistics and class weights match the input (the raw entry points that skip those checks,
# like torch.batch_norm_update_stats, are denied).
NN_LAYERS = _names("""
    Tensor.prelu torch.nn.functional.batch_norm torch.nn.functional.cross_entropy
    torch.nn.functional.group_norm torch.nn.functional.instance_norm
    torch.nn.functional.layer_norm torch.nn.functional.multi_margin_loss
    torch.nn.functional.multilabel_margin_loss torch.nn.functional.nll_loss
    torch.nn.functional.normalize torch.nn.functional.prelu torch.nn.functional.rms_norm
    torch.prelu
""")

# Autograd (backward, autograd.grad, the grad/data/requires_grad properties that optimizers
# and training code read and set) and metadata queries that return numbers or dtypes.
AUTOGRAD = _names("""
    Tensor.backward Tensor.data.__get__ Tensor.data.__set__ Tensor.device.__get__ Tensor.dim
    Tensor.dtype.__get__ Tensor.element_size Tensor.get_device Tensor.grad.__get__
    Tensor.grad.__set__ Tensor.grad_fn.__get__ Tensor.is_complex Tensor.is_conj
    Tensor.is_contiguous Tensor.is_cpu.__get__ Tensor.is_cuda.__get__ Tensor.is_floating_point
    Tensor.is_leaf.__get__ Tensor.is_meta.__get__ Tensor.is_neg Tensor.is_quantized.__get__
    Tensor.is_same_size Tensor.is_signed Tensor.is_sparse.__get__ Tensor.itemsize.__get__
    Tensor.layout.__get__ Tensor.nbytes.__get__ Tensor.ndim.__get__ Tensor.ndimension
    Tensor.nelement Tensor.numel Tensor.requires_grad.__get__ Tensor.requires_grad.__set__
    Tensor.requires_grad_ Tensor.retain_grad Tensor.retains_grad.__get__ Tensor.shape.__get__
    Tensor.size torch.autograd.grad torch.get_device torch.is_complex torch.is_conj
    torch.is_floating_point torch.is_neg torch.is_same_size torch.is_signed torch.numel
""")

# Sizes computed by a rule in commands._FORMULAS before running. Convolutions also bound the
# unfolded-input buffer torch's portable kernel makes (input channels x kernel x output
# positions: a 100 x 100 kernel over a 200 x 200 double image took 800 MB).
SIZED = _names("""
    Tensor.__getitem__ Tensor.__setitem__ Tensor.argwhere Tensor.as_strided Tensor.bincount
    Tensor.corrcoef Tensor.cov Tensor.histogram Tensor.index_put Tensor.index_put_
    Tensor.index_select Tensor.masked_scatter Tensor.nanquantile Tensor.nonzero Tensor.quantile
    Tensor.repeat Tensor.repeat_interleave Tensor.tile Tensor.where torch.argwhere
    torch.avg_pool1d torch.bincount torch.cat torch.column_stack torch.concat torch.concatenate
    torch.conv1d torch.conv2d torch.conv3d torch.corrcoef torch.cov torch.dstack torch.histogram
    torch.hstack torch.index_put torch.index_select torch.masked_scatter torch.nanquantile
    torch.nn.functional.avg_pool1d torch.nn.functional.avg_pool2d torch.nn.functional.avg_pool3d
    torch.nn.functional.conv1d torch.nn.functional.conv2d torch.nn.functional.conv3d
    torch.nn.functional.embedding torch.nn.functional.interpolate torch.nn.functional.linear
    torch.nn.functional.lp_pool1d torch.nn.functional.lp_pool2d torch.nn.functional.lp_pool3d
    torch.nn.functional.max_pool1d torch.nn.functional.max_pool1d_with_indices
    torch.nn.functional.max_pool2d torch.nn.functional.max_pool2d_with_indices
    torch.nn.functional.max_pool3d torch.nn.functional.max_pool3d_with_indices
    torch.nn.functional.one_hot torch.nn.functional.pad torch.nonzero torch.quantile
    torch.repeat_interleave torch.row_stack torch.stack torch.tile torch.vstack torch.where
""")

# Sizes taken from a run on meta tensors before running (transposed convolutions also bound the
# working buffer torch makes for them, in commands._conv_transpose).
META_SIZED = _names("""
    Tensor.addr Tensor.addr_ Tensor.diag Tensor.diag_embed Tensor.diagflat Tensor.ger
    Tensor.histc Tensor.inner Tensor.kron Tensor.multinomial Tensor.outer Tensor.qr Tensor.svd
    torch.adaptive_avg_pool1d torch.addr torch.block_diag torch.cartesian_prod torch.cdist
    torch.conv_transpose1d torch.conv_transpose2d torch.conv_transpose3d torch.diag
    torch.diag_embed torch.diagflat torch.functional.block_diag torch.functional.cartesian_prod
    torch.functional.cdist torch.functional.tensordot torch.ger torch.histc torch.inner
    torch.kron torch.linalg.linalg_lu torch.linalg.linalg_qr torch.linalg.linalg_svd
    torch.multinomial torch.nn.functional.adaptive_avg_pool1d
    torch.nn.functional.adaptive_avg_pool2d torch.nn.functional.adaptive_avg_pool3d
    torch.nn.functional.adaptive_max_pool1d torch.nn.functional.adaptive_max_pool1d_with_indices
    torch.nn.functional.adaptive_max_pool2d torch.nn.functional.adaptive_max_pool2d_with_indices
    torch.nn.functional.adaptive_max_pool3d torch.nn.functional.adaptive_max_pool3d_with_indices
    torch.nn.functional.conv_transpose1d torch.nn.functional.conv_transpose2d
    torch.nn.functional.conv_transpose3d torch.nn.functional.fold torch.nn.functional.pdist
    torch.nn.functional.unfold torch.outer torch.pdist torch.qr torch.svd torch.tensordot
""")

# Tensor factories (bob.remote.torch.zeros(2, 3), plans' recorded factories) and the new_*
# methods: their sizes are arguments, so they run on meta first; torch.empty is not here.
FACTORIES = _names("""
    Tensor.new_full Tensor.new_ones Tensor.new_zeros torch.arange torch.eye torch.full
    torch.linspace torch.logspace torch.ones torch.rand torch.randint torch.randn torch.randperm
    torch.zeros
""")

_GROUPS = ((UNARY, BROADCAST), (BINARY, BROADCAST), (MATMUL, BROADCAST), (NN_ELEMENTWISE, BROADCAST),
           (REDUCTIONS, BOUNDED), (SHAPES, BOUNDED), (PARTS, FORMULA), (CONVERSIONS, BOUNDED),
           (INDEXING, BOUNDED), (LINALG, BOUNDED), (RANDOM_OPS, BOUNDED), (NN_LAYERS, BOUNDED),
           (AUTOGRAD, BOUNDED), (SIZED, FORMULA), (META_SIZED, META), (FACTORIES, META))

# name -> size rule
RULES = {name: rule for names, rule in _GROUPS for name in names}
ALLOWED = frozenset(RULES)

# Operations that draw from torch's global random generator.
RANDOM = frozenset(_names("""
    Tensor.bernoulli Tensor.bernoulli_ Tensor.cauchy_ Tensor.exponential_ Tensor.geometric_
    Tensor.log_normal_ Tensor.multinomial Tensor.normal_ Tensor.random_ Tensor.uniform_
    torch.bernoulli torch.multinomial torch.nn.functional.alpha_dropout
    torch.nn.functional.dropout torch.nn.functional.dropout1d torch.nn.functional.dropout2d
    torch.nn.functional.dropout3d torch.nn.functional.feature_alpha_dropout
    torch.nn.functional.gumbel_softmax torch.nn.functional.rrelu torch.poisson torch.rand
    torch.randint torch.randn torch.randperm
"""))


# --- denied ----------------------------------------------------------------------------------

# Memory, storage and Python values: addresses, buffers shared with other objects, values that
# would leave without .get() (PySyft asked for .get() first), hashes of contents.
DENIED_VALUES = _names("""
    Tensor.__array__ Tensor.__array_wrap__ Tensor.__bool__ Tensor.__complex__
    Tensor.__contains__ Tensor.__cuda_array_interface__.__get__ Tensor.__dlpack__
    Tensor.__dlpack_device__ Tensor.__float__ Tensor.__format__ Tensor.__index__ Tensor.__int__
    Tensor.__len__ Tensor.__long__ Tensor.__nonzero__ Tensor.__repr__ Tensor.const_data_ptr
    Tensor.data_ptr Tensor.dim_order Tensor.hash_tensor Tensor.is_nonzero Tensor.is_pinned
    Tensor.is_set_to Tensor.is_shared Tensor.item Tensor.numpy Tensor.pin_memory
    Tensor.record_stream Tensor.share_memory_ Tensor.storage Tensor.storage_offset
    Tensor.storage_type Tensor.tolist Tensor.untyped_storage torch.hash_tensor torch.is_nonzero
""")

# Callables and (de)serialisation: a worker never runs a function or unpickles state it was sent.
DENIED_CALLABLES = _names("""
    Tensor.__deepcopy__ Tensor.__reduce_ex__ Tensor.__setstate__ Tensor.apply_ Tensor.index
    Tensor.map2_ Tensor.map_ Tensor.module_load Tensor.register_hook
    Tensor.register_post_accumulate_grad_hook
""")

# Other devices, symbolic shapes, named tensors and internal flags.
DENIED_DEVICES = _names("""
    Tensor.cuda Tensor.grad_dtype.__get__ Tensor.ipu Tensor.is_distributed Tensor.is_inference
    Tensor.is_ipu.__get__ Tensor.is_maia.__get__ Tensor.is_mkldnn.__get__ Tensor.is_mps.__get__
    Tensor.is_mtia.__get__ Tensor.is_nested.__get__ Tensor.is_sparse_csr.__get__
    Tensor.is_vulkan.__get__ Tensor.is_xla.__get__ Tensor.is_xpu.__get__ Tensor.mtia
    Tensor.name.__get__ Tensor.output_nr.__get__ Tensor.volatile.__get__ Tensor.xpu
    torch.autocast torch.is_distributed torch.is_inference torch.sym_float torch.sym_int
    torch.sym_ite torch.sym_max torch.sym_min torch.sym_not torch.sym_sum
""")

# Uninitialised memory, and in-place changes of a tensor's shape or storage (a pointer's shape is
# fixed when it is made).
DENIED_MEMORY = _names("""
    Tensor.as_strided_ Tensor.resize Tensor.resize_ Tensor.resize_as Tensor.resize_as_
    Tensor.resize_as_sparse_ Tensor.set_ Tensor.sparse_resize_ Tensor.sparse_resize_and_clear_
    Tensor.squeeze_ Tensor.swapaxes_ Tensor.swapdims_ Tensor.t_ Tensor.transpose_
    Tensor.unsqueeze_ torch.empty_like
""")

# Raw internal entry points that trust their public wrappers to have checked the arguments: the
# security review found heap overflows (batch_norm_update_stats, fused_moving_avg_obs_fake_quant,
# native_batch_norm), out-of-bounds reads (ctc_loss, also reached through F.ctc_loss with the same
# arguments), uninitialised memory (grid_sampler_2d), C++ objects handed out as tensors (fbgemm_*),
# and raw recurrent kernels taking flat weight lists.
DENIED_INTERNALS = _names("""
    torch.affine_grid_generator torch.batch_norm_backward_elemt torch.batch_norm_backward_reduce
    torch.batch_norm_elemt torch.batch_norm_gather_stats
    torch.batch_norm_gather_stats_with_counts torch.batch_norm_stats
    torch.batch_norm_update_stats torch.constant_pad_nd torch.conv_tbc torch.convolution
    torch.ctc_loss torch.fbgemm_linear_fp16_weight
    torch.fbgemm_linear_fp16_weight_fp32_activation torch.fbgemm_linear_int8_weight
    torch.fbgemm_linear_int8_weight_fp32_activation torch.fbgemm_linear_quantize_weight
    torch.fbgemm_pack_gemm_matrix_fp16 torch.fbgemm_pack_quantized_matrix
    torch.fused_moving_avg_obs_fake_quant torch.grid_sampler torch.grid_sampler_2d
    torch.grid_sampler_3d torch.gru torch.gru_cell torch.lstm torch.lstm_cell
    torch.miopen_batch_norm torch.miopen_convolution torch.miopen_convolution_add_relu
    torch.miopen_convolution_relu torch.miopen_convolution_transpose
    torch.miopen_depthwise_convolution torch.miopen_rnn torch.native_batch_norm
    torch.native_channel_shuffle torch.native_dropout torch.native_group_norm
    torch.native_layer_norm torch.native_norm torch.nn.functional.conv_tbc
    torch.nn.functional.ctc_loss torch.nn.functional.native_channel_shuffle
    torch.norm_except_dim torch.rnn_relu torch.rnn_relu_cell torch.rnn_tanh torch.rnn_tanh_cell
""")

# torch.* spellings of nn.functional layers and losses that skip the Python wrapper's checks
# (reduction as an int enum, padding_idx unchecked, ...); the nn.functional names are allowed.
DENIED_RAW = _names("""
    torch.adaptive_max_pool1d torch.alpha_dropout torch.batch_norm torch.bilinear
    torch.binary_cross_entropy_with_logits torch.celu torch.channel_shuffle
    torch.cosine_embedding_loss torch.dropout torch.embedding torch.embedding_bag
    torch.feature_alpha_dropout torch.feature_dropout torch.group_norm
    torch.hinge_embedding_loss torch.instance_norm torch.kl_div torch.layer_norm
    torch.margin_ranking_loss torch.max_pool1d torch.max_pool1d_with_indices torch.max_pool2d
    torch.max_pool3d torch.poisson_nll_loss torch.rms_norm torch.rrelu torch.selu
    torch.triplet_margin_loss
""")

# Quantization: quantized tensors cannot be carried by the codec, and their kernels are internals.
DENIED_QUANTIZED = _names("""
    Tensor.dequantize Tensor.int_repr Tensor.q_per_channel_axis Tensor.q_per_channel_scales
    Tensor.q_per_channel_zero_points Tensor.q_scale Tensor.q_zero_point Tensor.qscheme
    torch.choose_qparams_optimized torch.dequantize torch.fake_quantize_per_channel_affine
    torch.fake_quantize_per_tensor_affine torch.int_repr torch.q_per_channel_axis
    torch.q_per_channel_scales torch.q_per_channel_zero_points torch.q_scale torch.q_zero_point
    torch.quantize_per_channel torch.quantize_per_tensor torch.quantize_per_tensor_dynamic
    torch.quantized_batch_norm torch.quantized_gru_cell torch.quantized_lstm_cell
    torch.quantized_max_pool1d torch.quantized_max_pool2d torch.quantized_max_pool3d
    torch.quantized_rnn_relu_cell torch.quantized_rnn_tanh_cell
""")

# Sparse and mkldnn layouts: a worker keeps dense tensors only; sparse internals alias memory.
DENIED_SPARSE = _names("""
    Tensor.ccol_indices Tensor.coalesce Tensor.col_indices Tensor.crow_indices Tensor.dense_dim
    Tensor.indices Tensor.is_coalesced Tensor.row_indices Tensor.smm Tensor.sparse_dim
    Tensor.sparse_mask Tensor.sspaddmm Tensor.to_dense Tensor.to_mkldnn Tensor.to_sparse
    Tensor.values torch.dsmm torch.hsmm torch.hspmm torch.saddmm torch.smm torch.spmm
    torch.sspaddmm
""")

# Functionalization's *_copy and *_scatter variants, unsafe_* (no aliasing checks for autograd),
# and nonzero_static (a size argument that pads the result): not needed by anything here.
DENIED_COPIES = _names("""
    Tensor.as_strided_scatter Tensor.diagonal_scatter Tensor.narrow_copy Tensor.nonzero_static
    Tensor.select_scatter Tensor.slice_inverse Tensor.slice_scatter Tensor.unsafe_chunk
    Tensor.unsafe_split Tensor.unsafe_split_with_sizes torch.alias_copy torch.as_strided_copy
    torch.as_strided_scatter torch.ccol_indices_copy torch.col_indices_copy
    torch.crow_indices_copy torch.detach_copy torch.diagonal_copy torch.diagonal_scatter
    torch.expand_copy torch.indices_copy torch.narrow_copy torch.nonzero_static
    torch.permute_copy torch.row_indices_copy torch.select_copy torch.select_scatter
    torch.slice_copy torch.slice_inverse torch.slice_scatter torch.split_copy
    torch.split_with_sizes_copy torch.squeeze_copy torch.t_copy torch.transpose_copy
    torch.unbind_copy torch.unfold_copy torch.unsafe_chunk torch.unsafe_split
    torch.unsafe_split_with_sizes torch.unsqueeze_copy torch.values_copy
    torch.view_as_complex_copy torch.view_as_real_copy torch.view_copy
""")

# Loop counts and hidden amplification: polynomial families and mvlgamma (the degree or p is a
# loop count: legendre_polynomial_p(x, 2**40) never returns), iterative solvers with iteration
# counts, products whose intermediates can far exceed their result (einsum, bilinear,
# scaled_dot_product_attention's L x S matrix, local_response_norm's padding by its size),
# combinations (C(n, r) results), and layers taking externally supplied samples or indices.
DENIED_LOOPS = _names("""
    Tensor.mvlgamma Tensor.mvlgamma_ torch.binomial torch.chain_matmul torch.combinations
    torch.einsum torch.functional.chain_matmul torch.functional.einsum
    torch.functional.pca_lowrank torch.functional.svd_lowrank torch.histogramdd
    torch.linalg.linalg_multi_dot torch.linalg.linalg_vander torch.lobpcg torch.mvlgamma
    torch.nn.functional.affine_grid torch.nn.functional.bilinear
    torch.nn.functional.embedding_bag torch.nn.functional.fractional_max_pool2d
    torch.nn.functional.fractional_max_pool2d_with_indices
    torch.nn.functional.fractional_max_pool3d
    torch.nn.functional.fractional_max_pool3d_with_indices torch.nn.functional.grid_sample
    torch.nn.functional.linear_cross_entropy torch.nn.functional.local_response_norm
    torch.nn.functional.max_unpool1d torch.nn.functional.max_unpool2d
    torch.nn.functional.max_unpool3d torch.nn.functional.multi_head_attention_forward
    torch.nn.functional.scaled_dot_product_attention
    torch.special.special_chebyshev_polynomial_t torch.special.special_chebyshev_polynomial_u
    torch.special.special_chebyshev_polynomial_v torch.special.special_chebyshev_polynomial_w
    torch.special.special_hermite_polynomial_h torch.special.special_hermite_polynomial_he
    torch.special.special_laguerre_polynomial_l torch.special.special_legendre_polynomial_p
    torch.special.special_multigammaln torch.special.special_shifted_chebyshev_polynomial_t
    torch.special.special_shifted_chebyshev_polynomial_u
    torch.special.special_shifted_chebyshev_polynomial_v
    torch.special.special_shifted_chebyshev_polynomial_w
""")

# Public operations no tutorial, model or optimizer here needs; left out to keep the surface
# small (FFTs and STFT take output sizes; lu_solve, ldl_solve and householder_product take
# pivots or reflectors; lstsq has no meta kernel to bound its result).
DENIED_UNNEEDED = _names("""
    Tensor.geqrf Tensor.istft Tensor.lu_solve Tensor.orgqr Tensor.ormqr Tensor.stft
    Tensor.triangular_solve torch.cumulative_trapezoid torch.fft.fft_fft torch.fft.fft_fft2
    torch.fft.fft_fftn torch.fft.fft_fftshift torch.fft.fft_hfft torch.fft.fft_hfft2
    torch.fft.fft_hfftn torch.fft.fft_ifft torch.fft.fft_ifft2 torch.fft.fft_ifftn
    torch.fft.fft_ifftshift torch.fft.fft_ihfft torch.fft.fft_ihfft2 torch.fft.fft_ihfftn
    torch.fft.fft_irfft torch.fft.fft_irfft2 torch.fft.fft_irfftn torch.fft.fft_rfft
    torch.fft.fft_rfft2 torch.fft.fft_rfftn torch.frobenius_norm torch.functional.istft
    torch.functional.stft torch.functional.unravel_index torch.geqrf torch.gradient torch.istft
    torch.linalg.linalg_householder_product torch.linalg.linalg_ldl_factor
    torch.linalg.linalg_ldl_factor_ex torch.linalg.linalg_ldl_solve torch.linalg.linalg_lstsq
    torch.linalg.linalg_lu_solve torch.lu_solve torch.lu_unpack
    torch.nn.functional.channel_shuffle torch.nn.functional.cosine_embedding_loss
    torch.nn.functional.gaussian_nll_loss torch.nuclear_norm torch.orgqr torch.ormqr torch.stft
    torch.trapezoid torch.trapz torch.triangular_solve torch.unravel_index
""")

DENIED = frozenset(DENIED_VALUES + DENIED_CALLABLES + DENIED_DEVICES + DENIED_MEMORY + DENIED_INTERNALS
                   + DENIED_RAW + DENIED_QUANTIZED + DENIED_SPARSE + DENIED_COPIES + DENIED_LOOPS
                   + DENIED_UNNEEDED)
