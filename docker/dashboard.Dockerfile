# The dashboard as static files behind nginx, for deployments that serve it apart from the API.
# (npm start and the producer image serve the same build from the producer itself.)
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json ./
# npm ci, else npm install of the same locked versions (this registry lacks other platforms' optional binaries)
COPY scripts/npm-install-locked.sh scripts/
RUN sh scripts/npm-install-locked.sh
COPY apps/dashboard apps/dashboard
# the dashboard imports the contracts library's sources (vite.config.ts aliases @email-core/contracts to them)
COPY libs/contracts libs/contracts
RUN npx vite build apps/dashboard

FROM nginx:1.27-alpine
COPY --from=build /src/apps/dashboard/dist /usr/share/nginx/html
