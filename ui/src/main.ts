import './components/lab-app.ts'
