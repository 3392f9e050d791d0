export {
  CA_COMMON_NAME,
  defaultCertDir,
  ensureCertificates,
  extraCaCertsFile,
  resolveCertDir,
  type EmulatorCertificates,
  type EnsureCertificatesOptions,
} from './certificates';
